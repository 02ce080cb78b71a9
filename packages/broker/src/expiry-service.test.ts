import type { Database } from "@leasehold/db";
import type { CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPIRY_BATCHES_IN_FLIGHT, MAX_EXPIRY_BATCH } from "./expiry-service.js";
import { createHarness, expireAll, grantInState, type Harness } from "./test-harness.js";

/**
 * `grants.expire` gathers the calls made at the same moment into one batch (one transaction), keeps
 * a hung provider call to its own batch, and gives each caller its own outcome.
 */
describe("the expiry service", () => {
  let h: Harness;
  let transactions = 0;
  /** Grant ids whose provider call waits until the test lets it go, and the calls made so far. */
  const held = new Map<string, () => void>();
  const started = new Set<string>();
  const provider: CredentialProvider = {
    kind: "aws-role",
    issue: () => Promise.reject(new Error("not used")),
    discardEarlierAttempts: async () => {},
    revoke: async () => {},
    expire: ({ grant }) => {
      started.add(grant.id);
      return held.has(grant.id)
        ? new Promise<void>((resolve) => held.set(grant.id, resolve))
        : Promise.resolve();
    },
    release: async () => {},
    needsRelease: () => false,
  };
  const counting = (db: Database): Database => ({
    ...db,
    transaction: (work) => {
      transactions += 1;
      return db.transaction(work);
    },
  });

  beforeAll(async () => {
    // Room for one requester to hold more grants than one expiry transaction takes.
    const caps = { pendingRequests: 10, activeGrants: 2 * MAX_EXPIRY_BATCH, activeLeases: 10 };
    h = await createHarness("pglite", provider, { wrapDatabase: counting, caps });
  });
  afterAll(() => h.close());

  const notLast = { isLast: false };
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  /** An active grant whose deadline has just passed. */
  const dueGrant = () => grantInState(h, "active", -1);
  /** What happened to a grant after it was created (grantInState records its creation). */
  const actionsOf = async (id: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 100, subjectId: id })))
      .map((e) => e.action)
      .filter((action) => action !== "grant.created");

  it("calls made together share one transaction; each grant gets one audit event", async () => {
    const ids = [await dueGrant(), await dueGrant(), await dueGrant()];
    transactions = 0;
    expect(await expireAll(h.broker, ids, notLast)).toEqual(["expired", "expired", "expired"]);
    expect(transactions).toBe(1);
    for (const id of ids) expect(await actionsOf(id)).toEqual(["grant.expired"]);
  });

  it("the same grant asked for twice at once is expired once, and both callers hear so", async () => {
    const id = await dueGrant();
    expect(await expireAll(h.broker, [id, id], notLast)).toEqual(["expired", "expired"]);
    expect(await actionsOf(id)).toEqual(["grant.expired"]);
  });

  it("more calls at once than one transaction takes (a sweep's page) go out as several batches side by side", async () => {
    const ids: string[] = [];
    for (let i = 0; i <= MAX_EXPIRY_BATCH; i++) ids.push(await dueGrant());
    const [first = "", ...rest] = ids;
    const last = rest[rest.length - 1] ?? "";
    held.set(first, () => {});
    transactions = 0;
    const all = expireAll(h.broker, ids, notLast);
    // The first batch waits on its hung call; the grant past one transaction's worth is in another batch.
    while (!started.has(first)) await tick();
    while ((await actionsOf(last)).length === 0) await tick();
    expect(await actionsOf(first)).toEqual([]);
    held.get(first)?.();
    expect(await all).toEqual(Array(ids.length).fill("expired"));
    expect(transactions).toBe(2);
    held.clear();
  });

  it("a provider call that hangs holds up only its own batch; past the batches in flight, calls wait together", async () => {
    const hung: string[] = [];
    const hungCalls: Promise<string>[] = [];
    for (let i = 0; i < EXPIRY_BATCHES_IN_FLIGHT; i++) {
      const id = await dueGrant();
      held.set(id, () => {});
      hung.push(id);
      hungCalls.push(h.broker.grants.expire(id, notLast));
      // Each in a batch of its own: the next call is made once this one's batch has started.
      while (!started.has(id)) await tick();
    }
    // Every batch is busy: these two wait, then go out together in one transaction.
    const [x, y] = [await dueGrant(), await dueGrant()];
    transactions = 0;
    const late = expireAll(h.broker, [x, y], notLast);
    for (let i = 0; i < 5; i++) await tick();
    expect(await actionsOf(x)).toEqual([]);
    const first = hung[0] ?? "";
    held.get(first)?.();
    expect(await hungCalls[0]).toBe("expired");
    expect(await late).toEqual(["expired", "expired"]);
    // The first hung grant's commit, then x and y together.
    expect(transactions).toBe(2);
    for (const id of hung.slice(1)) {
      expect(await actionsOf(id)).toEqual([]);
      held.get(id)?.();
    }
    expect(await Promise.all(hungCalls)).toEqual(Array(EXPIRY_BATCHES_IN_FLIGHT).fill("expired"));
    held.clear();
  });
});
