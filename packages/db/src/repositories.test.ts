import { randomUUID } from "node:crypto";
import { type AccessRequest, type Grant, newGrant } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { createStore, type Repositories, type Store } from "./store.js";
import { createTestDatabase, dialects } from "./test-database.js";

const now = new Date("2026-11-23T10:00:00.000Z");

// A new requester each time: only one pending request per requester and target is allowed.
const request = (overrides: Partial<AccessRequest> = {}): AccessRequest => ({
  id: randomUUID(),
  targetId: "prod",
  requesterId: `dev-${randomUUID()}@example.com`,
  reason: "investigate",
  ticket: null,
  durationSeconds: 3600,
  scopes: [],
  requiredApprovals: 2,
  state: "pending",
  createdAt: now,
  pendingUntil: new Date(now.getTime() + 3_600_000),
  decidedAt: null,
  escalationLevel: 0,
  escalateAt: null,
  breakGlass: false,
  ...overrides,
});

const grantFor = (requestId: string | null): Grant =>
  newGrant({
    id: randomUUID(),
    requestId,
    targetId: "prod",
    principalId: "dev@example.com",
    durationSeconds: 3600,
    now,
  });

describe.each(dialects)("repositories on %s", (dialect) => {
  let db: Database;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    store = createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32), grantKey: Buffer.alloc(32, 2) });
  });
  afterAll(async () => {
    await db.close();
  });
  /** The credential a delivery of the grant reads (none unless it is active). */
  const credentialOf = async (id: string) =>
    (await store.transaction((repos) => repos.grants.lockForDelivery(id)))?.credential;

  it("records one review per reviewer", async () => {
    const r = request();
    await store.transaction((repos) => repos.requests.insert(r));
    const review = {
      requestId: r.id,
      reviewerId: "bob",
      decision: "approve" as const,
      comment: null,
      createdAt: now,
    };
    expect(await store.transaction((repos) => repos.requests.insertReview(review))).toBe(true);
    expect(
      await store.transaction((repos) => repos.requests.insertReview({ ...review, decision: "deny" })),
    ).toBe(false);
    expect(await store.read((repos) => repos.requests.listReviews(r.id))).toEqual([review]);
  });

  it("decides a pending request once", async () => {
    const r = request();
    await store.transaction((repos) => repos.requests.insert(r));
    expect(await store.transaction((repos) => repos.requests.decide(r.id, "approved", now))).toBe(true);
    expect(await store.transaction((repos) => repos.requests.decide(r.id, "denied", now))).toBe(false);
    expect((await store.read((repos) => repos.requests.findById(r.id)))?.state).toBe("approved");
  });

  it("refuses a second pending request by the same requester for the same target", async () => {
    const first = request();
    await store.transaction((repos) => repos.requests.insert(first));
    const second = request({ requesterId: first.requesterId });
    await expect(store.transaction((repos) => repos.requests.insert(second))).rejects.toThrow(
      /unique|duplicate/,
    );
    await store.transaction((repos) => repos.requests.decide(first.id, "cancelled", now));
    await store.transaction((repos) => repos.requests.insert(second));
  });

  it("lists timed-out pending requests", async () => {
    const late = request({ pendingUntil: new Date(now.getTime() - 1000) });
    await store.transaction((repos) => repos.requests.insert(late));
    const timedOut = await store.read((repos) => repos.requests.listTimedOut(now, 100));
    expect(timedOut.map((r) => r.id)).toContain(late.id);
  });

  it("refuses a second grant for the same request", async () => {
    const r = request({ state: "approved", decidedAt: now });
    await store.transaction((repos) => repos.requests.insert(r));
    await store.transaction((repos) => repos.grants.insert(grantFor(r.id)));
    await expect(store.transaction((repos) => repos.grants.insert(grantFor(r.id)))).rejects.toThrow(
      /unique|duplicate/,
    );
  });

  it("moves a grant only from the expected state, and keeps the credential only while active", async () => {
    const g = grantFor(null);
    await store.transaction((repos) => repos.grants.insert(g));
    expect(
      (await store.transaction((repos) => repos.grants.beginIssueAttempt(g.id, now)))?.grant.issueAttempts,
    ).toBe(1);
    const active = await store.transaction((repos) =>
      repos.grants.transition(g.id, ["issuing"], "active", now, {
        issuedAt: now,
        expiresAt: new Date(now.getTime() + 3_600_000),
        providerRef: { sessionName: "lh-x" },
        credential: Buffer.from("sealed"),
      }),
    );
    expect(active).toMatchObject({
      grant: { state: "active", providerRef: { sessionName: "lh-x" } },
      sealed: true,
    });
    expect(await credentialOf(g.id)).toEqual(Buffer.from("sealed"));
    // A second "issued" for the same grant finds it no longer issuing.
    expect(
      await store.transaction((repos) => repos.grants.transition(g.id, ["issuing"], "active", now)),
    ).toBeUndefined();
    // The schema itself refuses a credential on a grant that is not active.
    await expect(
      store.transaction((repos) =>
        repos.grants.transition(g.id, ["active"], "expired", now, { endedAt: now }),
      ),
    ).rejects.toThrow(/check constraint/);
    const ended = await store.transaction((repos) =>
      repos.grants.transition(g.id, ["active"], "expired", now, { endedAt: now, credential: null }),
    );
    expect(ended?.grant.state).toBe("expired");
    expect(await credentialOf(g.id)).toBeUndefined();
  });

  it("keeps a grant's row sealed through its own writes, and never seals a row changed by hand", async () => {
    const [a, b] = [grantFor(null), grantFor(null)];
    /** Each of Leasehold's writes of a sealed field, and whether the row matched the grant it returned. */
    const writes = async (id: string) => {
      const results: boolean[] = [];
      const write = async (change: (repos: Repositories) => Promise<Grant | undefined>) => {
        const grant = await store.transaction(change);
        results.push(grant !== undefined && (await store.read((repos) => repos.grants.isSealed(grant))));
      };
      await write(async (r) => {
        const begun = await r.grants.beginIssueAttempt(id, now);
        // What the count says of the row is what the row says.
        expect(begun?.sealed).toBe(begun !== undefined && (await r.grants.isSealed(begun.grant)));
        return begun?.grant;
      });
      await write(async (r) => {
        await r.grants.recordIssueWait(id, 1, "throttled", now, { giveBackAttempt: true });
        return r.grants.findById(id);
      });
      await write(async (r) => {
        const moved = await r.grants.transition(id, ["issuing"], "active", now, { expiresAt: now });
        // What the move says of the row is what the row says.
        expect(moved?.sealed).toBe(moved !== undefined && (await r.grants.isSealed(moved.grant)));
        return moved?.grant;
      });
      await write(async (r) => (await r.grants.transitionMany([id], ["active"], "expired", now))[0]);
      return results;
    };
    await store.transaction(async (repos) => {
      await repos.grants.insert(a);
      await repos.grants.insert(b);
    });
    expect(await store.read((repos) => repos.grants.isSealed(a))).toBe(true);
    // Someone without the key hands b to themselves; Leasehold's later writes do not vouch for it.
    await db.query("UPDATE grants SET principal_id = 'mallory@example.com' WHERE id = $1", [b.id]);
    // A delivery's read says so of the row as it reads it.
    const delivery = (id: string) => store.transaction((repos) => repos.grants.lockForDelivery(id));
    expect(await delivery(a.id)).toMatchObject({ grant: { id: a.id }, sealed: true });
    expect(await delivery(b.id)).toMatchObject({
      grant: { principalId: "mallory@example.com" },
      sealed: false,
    });
    expect(await delivery(randomUUID())).toBeUndefined();
    expect(await writes(a.id)).toEqual([true, true, true, true]);
    expect(await writes(b.id)).toEqual([false, false, false, false]);
    // A grant as read before a change no longer matches the row.
    expect(await store.read((repos) => repos.grants.isSealed(a))).toBe(false);
  });

  it("moves many grants at once, only those in an expected state", async () => {
    const [a, b, c] = [grantFor(null), grantFor(null), grantFor(null)];
    const expiresAt = new Date(now.getTime() + 3_600_000);
    await store.transaction(async (repos) => {
      for (const g of [a, b, c]) {
        await repos.grants.insert(g);
        await repos.grants.transition(g.id, ["issuing"], "active", now, {
          issuedAt: now,
          expiresAt,
          credential: Buffer.from("sealed"),
        });
      }
      await repos.grants.transition(c.id, ["active"], "revoking", now, { credential: null });
    });
    expect((await store.read((repos) => repos.grants.findByIds([a.id, c.id, randomUUID()]))).length).toBe(2);
    const later = new Date(now.getTime() + 1000);
    const moved = await store.transaction((repos) =>
      repos.grants.transitionMany([a.id, b.id, c.id], ["active"], "expired", later, {
        endedAt: later,
        credential: null,
      }),
    );
    expect(moved.map((g) => g.id).sort()).toEqual([a.id, b.id].sort());
    expect(moved.every((g) => g.state === "expired" && g.endedAt?.getTime() === later.getTime())).toBe(true);
    expect(await credentialOf(a.id)).toBeUndefined();
    expect((await store.read((repos) => repos.grants.findById(c.id)))?.state).toBe("revoking");
    // A deadline guard leaves a grant whose deadline is later (one extended since it was read).
    const d = grantFor(null);
    await store.transaction(async (repos) => {
      await repos.grants.insert(d);
      await repos.grants.transition(d.id, ["issuing"], "active", now, { issuedAt: now, expiresAt });
    });
    const beforeDeadline = new Date(expiresAt.getTime() - 1);
    expect(
      await store.transaction((repos) =>
        repos.grants.transitionMany([d.id], ["active"], "expired", later, {}, { dueBy: beforeDeadline }),
      ),
    ).toEqual([]);
    expect(
      (
        await store.transaction((repos) =>
          repos.grants.transitionMany([d.id], ["active"], "expired", later, {}, { dueBy: expiresAt }),
        )
      ).map((g) => g.id),
    ).toEqual([d.id]);
    // Moving them again finds none in the expected state.
    expect(
      await store.transaction((repos) =>
        repos.grants.transitionMany([a.id, b.id], ["active"], "expired", later),
      ),
    ).toEqual([]);
    await store.transaction((repos) => repos.grants.markReleasedMany([a.id, b.id], later));
    const released = await db.query<{ released_at: Date | null }>(
      "SELECT released_at FROM grants WHERE id = ANY($1::uuid[])",
      [[a.id, b.id, c.id]],
    );
    expect(released.filter((r) => r.released_at !== null)).toHaveLength(2);
    // Released once: a second release (another worker's sweep) changes nothing and says so.
    expect(await store.transaction((repos) => repos.grants.markReleased(c.id, later))).toBe(true);
    expect(await store.transaction((repos) => repos.grants.markReleased(c.id, now))).toBe(false);
    await store.transaction((repos) => repos.grants.markReleasedMany([c.id], now));
    const [kept] = await db.query<{ released_at: Date }>("SELECT released_at FROM grants WHERE id = $1", [
      c.id,
    ]);
    expect(kept?.released_at).toEqual(later);
  });

  it("finds live grants past their deadline, and revocation debt only once it has rested", async () => {
    const [live, debt, future] = [grantFor(null), grantFor(null), grantFor(null)];
    const past = new Date(now.getTime() - 1);
    const ago = (ms: number) => new Date(now.getTime() - ms);
    await store.transaction(async (repos) => {
      for (const [g, expiresAt] of [
        [live, past],
        [debt, past],
        [future, new Date(now.getTime() + 60_000)],
      ] as const) {
        await repos.grants.insert(g);
        await repos.grants.transition(g.id, ["issuing"], "active", ago(10_000), { issuedAt: now, expiresAt });
      }
      await repos.grants.transition(debt.id, ["active"], "revocation_failed", ago(5_000));
    });
    const due = async (debtRestedBefore: Date) =>
      (await store.read((repos) => repos.grants.listPastDeadline(now, debtRestedBefore, 100))).map(
        (d) => d.id,
      );
    expect(await due(ago(6_000))).toEqual([live.id]);
    expect((await due(ago(4_000))).sort()).toEqual([live.id, debt.id].sort());
  });
});

describe("batched grant transitions under concurrent writers on postgres", () => {
  it("two batches sharing grants, listed in opposite orders, both finish and each grant moves once", async () => {
    const db = await createTestDatabase("postgres");
    try {
      const store = createStore(db, {
        keyId: "k1",
        auditKey: Buffer.alloc(32),
        grantKey: Buffer.alloc(32, 2),
      });
      const grants = Array.from({ length: 200 }, () => grantFor(null));
      const expiresAt = new Date(now.getTime() + 3_600_000);
      await store.transaction(async (repos) => {
        for (const g of grants) {
          await repos.grants.insert(g);
          await repos.grants.transition(g.id, ["issuing"], "active", now, { issuedAt: now, expiresAt });
        }
      });
      const ids = grants.map((g) => g.id);
      const expire = (order: string[]) =>
        store.transaction(async (repos) => {
          const moved = await repos.grants.transitionMany(order, ["active"], "expired", now, {
            endedAt: now,
          });
          await repos.audit.appendMany(
            moved.map((g) => ({
              actor: "system:worker",
              action: "grant.expired" as const,
              subjectType: "grant" as const,
              subjectId: g.id,
              data: { deadline: now.toISOString() },
            })),
            now,
          );
          return moved.length;
        });
      const counts = await Promise.all([expire(ids), expire([...ids].reverse()), expire(ids.slice(50, 150))]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
      const [row] = await db.query<{ events: string }>("SELECT count(*)::text AS events FROM audit_events");
      expect(row?.events).toBe("200");
    } finally {
      await db.close();
    }
  });
});
