import type { Database } from "@leasehold/db";
import type { CredentialProvider } from "@leasehold/providers";
import { startAwsSandbox } from "@leasehold/sandbox";
import { describe, expect, it } from "vitest";
import {
  approvedProdGrant,
  askForProd,
  createHarness,
  ROLE_ARN,
  requester,
  stsProviderAt,
} from "./test-harness.js";

/**
 * Invariant 8: no network call and no enqueue inside a database transaction. Every provider and
 * queue call through a whole grant's life checks that no transaction is open at that moment.
 */
describe("no call-out inside a transaction", () => {
  it("holds through request, approval, issue, delivery, revocation, expiry and release", async () => {
    const sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
    let open = 0;
    const violations: string[] = [];
    /** Wraps a call-out so that it records a violation when made inside a transaction. */
    const guarded =
      <Args extends unknown[], Result>(what: string, call: (...args: Args) => Result) =>
      (...args: Args): Result => {
        if (open > 0) violations.push(what);
        return call(...args);
      };
    const tracking = (db: Database): Database => ({
      ...db,
      transaction: async (work) => {
        open += 1;
        try {
          return await db.transaction(work);
        } finally {
          open -= 1;
        }
      },
    });
    const real = stsProviderAt(sandbox.url).provider;
    const watched: CredentialProvider = {
      ...real,
      issue: guarded("issue", real.issue),
      discardEarlierAttempts: guarded("discard", real.discardEarlierAttempts),
      revoke: guarded("revoke", real.revoke),
      expire: guarded("expire", real.expire),
      release: guarded("release", real.release),
    };
    const h = await createHarness("pglite", watched, { wrapDatabase: tracking });
    const { issue, expireAt, revoke } = h.deps.queues;
    Object.assign(h.deps.queues, {
      issue: guarded("enqueue issue", issue),
      expireAt: guarded("enqueue expiry", expireAt),
      revoke: guarded("enqueue revoke", revoke),
    });
    const approvedGrant = async () => (await approvedProdGrant(h.broker)).grant.id;
    try {
      const revoked = await approvedGrant();
      await h.broker.grants.issue(revoked, { isLast: false });
      await h.broker.grants.credentials(requester, revoked);
      await h.broker.grants.revoke(requester, { grantId: revoked });
      await h.broker.grants.finishRevoke(revoked, { isLast: false });
      await askForProd(h.broker).then(({ request }) => h.broker.requests.cancel(requester, request.id));
      const expiring = await approvedGrant();
      await h.broker.grants.issue(expiring, { isLast: false });
      // Past the revoked grant's deadline and the release margin. The deadline comes from the session
      // STS issued, on the real clock, so it is read rather than assumed from the harness's clock.
      const deadline = (await h.deps.store.read((r) => r.grants.findById(revoked)))?.expiresAt;
      h.clock.now = new Date((deadline?.getTime() ?? Number.NaN) + 301_000);
      expect(await h.broker.grants.expire(expiring, { isLast: false })).toBe("expired");
      expect((await h.broker.reconcile.run()).released).toBe(1);
      // Revocation rewrites the role's denials (listing its policies first); release rewrites them without
      // the grant (here: deletes them) and deletes the per-grant policies it may have, which never existed here.
      expect(sandbox.calls.map((c) => `${c.action} ${c.status}`)).toEqual([
        "AssumeRole 200",
        "ListRolePolicies 200",
        "PutRolePolicy 200",
        "AssumeRole 200",
        "ListRolePolicies 200",
        "GetRolePolicy 200",
        "DeleteRolePolicy 200",
        "DeleteRolePolicy 404",
        "DeleteRolePolicy 404",
      ]);
      expect(h.enqueued.map((e) => e.queue)).toEqual(["issue", "expire", "revoke", "issue", "expire"]);
      expect(violations).toEqual([]);
    } finally {
      await h.close();
      await sandbox.close();
    }
  });
});
