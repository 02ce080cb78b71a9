import { randomUUID } from "node:crypto";
import type { PreApproval } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import type { PreApprovalFilter } from "./pre-approval-repo.js";
import { createStore, type Store } from "./store.js";
import { createTestDatabase, dialects } from "./test-database.js";

const now = new Date("2026-12-06T12:00:00.000Z");
const hours = (n: number) => new Date(now.getTime() + n * 3_600_000);

// A new person each time, so the windows of one test never answer another's question.
const windowFor = (overrides: Partial<PreApproval> = {}): PreApproval => ({
  id: randomUUID(),
  targetId: "prod",
  principalId: `dev-${randomUUID()}@example.com`,
  approverId: "alice@example.com",
  reason: "maintenance night",
  startsAt: hours(1),
  endsAt: hours(3),
  createdAt: now,
  revokedAt: null,
  revokedBy: null,
  ...overrides,
});

describe.each(dialects)("pre-approval windows on %s", (dialect) => {
  let db: Database;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    store = createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32), grantKey: Buffer.alloc(32, 2) });
  });
  afterAll(async () => {
    await db.close();
  });

  const insert = (p: PreApproval) => store.transaction((r) => r.preApprovals.insert(p));
  const active = (p: PreApproval, at: Date, targetId = p.targetId) =>
    store.read((r) => r.preApprovals.activeFor(p.principalId, targetId, at));

  it("stores a window and reads it back as it was", async () => {
    const p = windowFor();
    await insert(p);
    expect(await store.read((r) => r.preApprovals.findById(p.id))).toEqual(p);
  });

  it("finds a window only inside it, for its own person and target", async () => {
    const p = windowFor();
    await insert(p);
    expect(await active(p, hours(0.5))).toBeUndefined();
    expect(await active(p, hours(1))).toEqual(p);
    expect(await active(p, hours(2.5))).toEqual(p);
    expect(await active(p, hours(3))).toBeUndefined();
    expect(await active(p, hours(2), "staging")).toBeUndefined();
    expect(await store.read((r) => r.preApprovals.activeFor("other@example.com", "prod", hours(2)))).toBe(
      undefined,
    );
  });

  it("finds nothing after the window is revoked, and revokes it once", async () => {
    const p = windowFor();
    await insert(p);
    const revoked = await store.transaction((r) => r.preApprovals.revoke(p.id, "bob@example.com", hours(2)));
    expect(revoked).toEqual({ ...p, revokedAt: hours(2), revokedBy: "bob@example.com" });
    expect(await active(p, hours(2.5))).toBeUndefined();
    expect(await store.transaction((r) => r.preApprovals.revoke(p.id, "alice@example.com", hours(2.5)))).toBe(
      undefined,
    );
    expect((await store.read((r) => r.preApprovals.findById(p.id)))?.revokedBy).toBe("bob@example.com");
  });

  it("does not revoke a window that already ended", async () => {
    const p = windowFor();
    await insert(p);
    expect(await store.transaction((r) => r.preApprovals.revoke(p.id, "bob@example.com", hours(4)))).toBe(
      undefined,
    );
  });

  it("refuses a window that ends before it starts", async () => {
    await expect(insert(windowFor({ startsAt: hours(3), endsAt: hours(3) }))).rejects.toThrow(/check/);
  });

  it("lists by target and person, current ones, and the ones covering an instant", async () => {
    const principalId = `ops-${randomUUID()}@example.com`;
    const targetId = `t-${randomUUID().slice(0, 8)}`;
    const tonight = windowFor({ principalId, targetId });
    const tomorrow = windowFor({ principalId, targetId, startsAt: hours(25), endsAt: hours(27) });
    const past = windowFor({ principalId, targetId, startsAt: hours(-5), endsAt: hours(-3) });
    const elsewhere = windowFor({ principalId, targetId: "staging" });
    for (const p of [tonight, tomorrow, past, elsewhere]) await insert(p);
    const list = (filter: Partial<PreApprovalFilter>) =>
      store.read((r) => r.preApprovals.list({ limit: 50, ...filter }));
    expect(await list({ targetId })).toEqual([tomorrow, tonight, past]);
    expect(await list({ principalId })).toHaveLength(4);
    expect(await list({ targetId, liveAt: now })).toEqual([tomorrow, tonight]);
    expect(await list({ targetId, activeAt: hours(2) })).toEqual([tonight]);
    expect(await list({ targetId, limit: 1 })).toEqual([tomorrow]);
  });
});
