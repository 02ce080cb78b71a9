import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitAudited, moveGrant } from "./audited-change.js";
import { admin, approvedProdGrant, createHarness, type Harness, requester, willing } from "./test-harness.js";

// On a PostgreSQL server, where the API's delivery and another process's change of the grant run at once.
describe("a credential read while its grant is being changed", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("postgres", willing);
  });
  afterAll(() => h.close());

  const actions = async (grantId: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 100, subjectId: grantId }))).map(
      (e) => e.action,
    );

  it("waits for a revocation in flight, then delivers nothing and audits no read", async () => {
    const { grant } = await approvedProdGrant(h.broker);
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    const { id } = grant;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let moved = () => {};
    const revokedUncommitted = new Promise<void>((resolve) => {
      moved = resolve;
    });
    // A revocation that has moved the row (wiping its credential) and not yet committed.
    const revocation = commitAudited(h.deps.store, h.clock.now, async (repos, record) => {
      await moveGrant(repos, record, id, {
        event: "revoke-requested",
        at: h.clock.now,
        changes: { credential: null },
        actor: admin.id,
        data: { reason: null },
      });
      moved();
      await released;
    });
    await revokedUncommitted;

    const delivery = h.broker.grants.credentials(requester, id);
    const outcome = delivery.then(
      () => "delivered",
      () => "refused",
    );
    expect(await Promise.race([outcome, sleep(300, "waiting")])).toBe("waiting");
    release();
    await revocation;
    await expect(delivery).rejects.toThrow(/this grant is revoking/);
    expect(await actions(id)).not.toContain("grant.credentials_read");
  });
});
