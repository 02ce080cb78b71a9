import { randomUUID } from "node:crypto";
import { createStore, openPostgres } from "@leasehold/db";
import type { BackendLeftover, CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "./broker.js";
import { askForProd, createHarness, grantInState, type Harness, willing } from "./test-harness.js";

/**
 * Every worker runs the sweep, so two sweeps often read the same due rows at once. Whatever they
 * both find must still be ended, and recorded, once. Two brokers here stand for two worker
 * processes: each has its own connection pool and its own expiry batching, over one PostgreSQL
 * database, with the clock shared.
 */

/**
 * Holds each grant's release until both sweeps have called it (or a second has passed), so the two
 * sweeps are inside the same step for the same grant at the same time: the race the test is about,
 * made to happen every run rather than now and then.
 */
function meetingPoint() {
  const arrived = new Map<string, { count: number; open: () => void; opened: Promise<void> }>();
  return async (grantId: string) => {
    let entry = arrived.get(grantId);
    if (!entry) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      entry = { count: 0, open, opened };
      arrived.set(grantId, entry);
    }
    entry.count += 1;
    if (entry.count >= 2) entry.open();
    const timer = setTimeout(entry.open, 1000);
    await entry.opened;
    clearTimeout(timer);
  };
}

describe("two workers' sweeps over the same due rows", () => {
  const meet = meetingPoint();
  const released: string[] = [];
  /** What the backend holds that no grant owns (a deny policy of a grant the database never had). */
  const leftovers = new Map<string, BackendLeftover>();
  const removals: string[] = [];
  /** A provider whose grants need releasing after their deadline (like STS denies on a role). */
  const provider: CredentialProvider = {
    ...willing,
    needsRelease: () => true,
    release: async ({ grant }) => {
      released.push(grant.id);
      await meet(grant.id);
    },
    expire: async ({ grant }) => meet(grant.id),
    drift: {
      scope: () => "the-role",
      list: async () => [...leftovers.values()],
      // Idempotent, as the contract asks: removing what is already gone is fine.
      remove: async ({ leftover }) => {
        removals.push(leftover.name);
        await meet(leftover.name);
        leftovers.delete(leftover.name);
      },
    },
  };
  let h: Harness;
  let other: Broker;
  let closeOther: () => Promise<void>;

  beforeAll(async () => {
    h = await createHarness("postgres", provider);
    if (h.url === undefined) throw new Error("expected a PostgreSQL database with a URL");
    const db = openPostgres(h.url);
    closeOther = () => db.close();
    const store = createStore(db, {
      keyId: "k1",
      auditKey: Buffer.alloc(32, 3),
      grantKey: Buffer.alloc(32, 2),
    });
    other = createBroker({ ...h.deps, store });
  });
  afterAll(async () => {
    await closeOther();
    await h.close();
  });

  const actionsOf = async (subjectId: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId }))).map(
      (e) => e.action,
    );
  const count = (actions: string[], action: string) => actions.filter((a) => a === action).length;

  it("each grant is released, expired and each request expired exactly once, whichever sweep gets there", async () => {
    // Ended long enough ago to be released (past the five-minute margin), due now, and timed out.
    const ended = [await grantInState(h, "expired", -400), await grantInState(h, "revoked", -400)];
    const due = [await grantInState(h, "active", -5), await grantInState(h, "active", -5)];
    const { request: pending } = await askForProd(h.broker);
    h.clock.advance(3601); // past the request's one-hour pendingTtl

    const reports = await Promise.all([h.broker.reconcile.run(), other.reconcile.run()]);

    // Both sweeps reached the provider for the ended grants (the race happened), and one recorded it.
    for (const id of ended) expect(released.filter((r) => r === id)).toHaveLength(2);
    for (const id of ended) expect(count(await actionsOf(id), "grant.released"), id).toBe(1);
    for (const id of due) expect(count(await actionsOf(id), "grant.expired"), id).toBe(1);
    // The clock moved an hour on, so the grants expired now are past the release margin too.
    for (const id of due) expect(count(await actionsOf(id), "grant.released"), id).toBe(1);
    expect(count(await actionsOf(pending.id), "request.expired")).toBe(1);
    expect(reports.map((r) => r.released).reduce((a, b) => a + b)).toBe(ended.length + due.length);
    expect(reports.map((r) => r.expired).reduce((a, b) => a + b)).toBe(due.length);
    expect(reports.map((r) => r.requestsExpired).reduce((a, b) => a + b)).toBe(1);
    const verification = await h.deps.store.read((r) => r.audit.verify());
    expect(verification).toMatchObject({ ok: true });
  });

  it("a leftover both drift scans found is removed by both and recorded as corrected once", async () => {
    const grantId = randomUUID();
    const name = `leasehold-grant-${grantId}`;
    leftovers.set(name, { kind: "iam-inline-policy", name, grant: { id: grantId }, handle: name });

    const reports = await Promise.all([h.broker.drift.run(), other.drift.run()]);

    expect(removals.filter((r) => r === name)).toHaveLength(2);
    const corrected = (
      await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId: "prod-readonly" }))
    ).filter((e) => e.action === "drift.corrected" && e.data.removed === name);
    expect(corrected).toHaveLength(1);
    expect(reports.map((r) => r.corrected).reduce((a, b) => a + b)).toBe(1);
    expect(leftovers.size).toBe(0);
  });
});
