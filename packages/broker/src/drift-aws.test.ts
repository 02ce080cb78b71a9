import { randomUUID } from "node:crypto";
import { type IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { type Grant, newGrant } from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createHarness,
  grantInState,
  type Harness,
  prodTarget,
  ROLE_ARN,
  requester,
  stsProviderAt,
} from "./test-harness.js";

/**
 * Drift on an AWS role: per-grant deny policies that no grant needs any more are removed by the drift
 * reconciliation, and those a grant still needs (an active grant's discard policy, a revoked grant's
 * deny until its release) are left alone.
 */
describe("drift reconciliation: IAM inline policies", () => {
  let sandbox: AwsSandbox;
  let provider: CredentialProvider;
  let iam: IAMClient;
  let h: Harness;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }] });
    ({ iam, provider } = stsProviderAt(sandbox.url));
    h = await createHarness("pglite", provider);
  });
  afterAll(async () => {
    await h.close();
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
    h.clock.now = new Date();
  });

  const policies = () => Object.keys(sandbox.rolePolicies("ProdReadOnly")).sort();
  const row = (id: string) => h.deps.store.read(async (r) => (await r.grants.findById(id)) as Grant);
  /**
   * Writes the per-grant revocation policy an earlier version wrote (and, from attempt 2, the
   * discard policy the provider writes).
   */
  const denyFor = async (grant: Grant) => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "ProdReadOnly",
        PolicyName: `leasehold-revoke-${grant.id}`,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
        }),
      }),
    );
    if (grant.issueAttempts > 1) await provider.discardEarlierAttempts({ grant, target: prodTarget });
  };
  const driftEvents = async () =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId: prodTarget.id })))
      .filter((e) => e.action === "drift.corrected")
      .map((e) => e.data);

  it("removes the policies of unknown and released grants, keeps those a grant still needs", async () => {
    const now = h.clock.now;
    // Active, with a discard policy from an interrupted attempt: needed.
    const active = await grantInState(h, "active", 1800);
    await h.db.query("UPDATE grants SET issue_attempts = 2 WHERE id = $1", [active]);
    // Revoked, deadline ahead: its deny must stay until its release.
    const revoking = await grantInState(h, "revoked", 1800);
    await h.db.query("UPDATE grants SET ended_at = $2 WHERE id = $1", [revoking, now]);
    // Revoked long ago and released: its deny policy should have gone with the release.
    const released = await grantInState(h, "revoked", -7200);
    await h.db.query("UPDATE grants SET created_at = $2, ended_at = $2, released_at = $3 WHERE id = $1", [
      released,
      new Date(now.getTime() - 4 * 3600_000),
      new Date(now.getTime() - 3600_000),
    ]);
    // A grant this database has never heard of.
    const unknown = newGrant({
      id: randomUUID(),
      requestId: null,
      targetId: prodTarget.id,
      principalId: requester.id,
      durationSeconds: 900,
      now,
    });
    for (const id of [active, revoking, released]) await denyFor(await row(id));
    await denyFor({ ...unknown, issueAttempts: 2 });
    expect(policies()).toHaveLength(6);

    const report = await h.broker.drift.run();

    expect(report).toMatchObject({
      scanned: 1,
      listFailures: 0,
      unowned: 3,
      corrected: 3,
      removeFailures: 0,
    });
    expect(policies()).toEqual(
      [`leasehold-discard-${active}`, `leasehold-revoke-${active}`, `leasehold-revoke-${revoking}`].sort(),
    );
    const events = await driftEvents();
    expect(events).toHaveLength(3);
    expect(events).toContainEqual({
      kind: "iam-inline-policy",
      backend: "aws-role",
      targetId: prodTarget.id,
      removed: `leasehold-revoke-${released}`,
      grantId: released,
      reason: "grant-ended",
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        removed: `leasehold-discard-${unknown.id}`,
        grantId: unknown.id,
        reason: "unknown-grant",
      }),
    );
    // Nothing left to correct: a second run changes nothing and records nothing.
    expect(await h.broker.drift.run()).toMatchObject({ unowned: 0, corrected: 0 });
    expect(await driftEvents()).toHaveLength(3);
  });

  it("a revoked grant whose release is overdue no longer owns its deny; other policies on the role are never touched", async () => {
    const now = h.clock.now;
    const overdue = await grantInState(h, "revoked", -3600);
    await h.db.query("UPDATE grants SET created_at = $2, ended_at = $2 WHERE id = $1", [
      overdue,
      new Date(now.getTime() - 3 * 3600_000),
    ]);
    await denyFor(await row(overdue));
    // Not per-grant policies: their names do not say which grant needs them, so drift leaves them.
    for (const name of ["leasehold-shared-deny", "ops-readonly"]) {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: "ProdReadOnly",
          PolicyName: name,
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Deny", Action: "s3:DeleteBucket", Resource: "*" }],
          }),
        }),
      );
    }
    const report = await h.broker.drift.run();
    expect(report).toMatchObject({ unowned: 1, corrected: 1 });
    expect(policies()).toEqual(["leasehold-shared-deny", "ops-readonly"]);
  });

  it("IAM refusing the listing is reported and retried next time, changing nothing", async () => {
    const unknownId = randomUUID();
    await denyFor({
      ...newGrant({
        id: unknownId,
        requestId: null,
        targetId: prodTarget.id,
        principalId: requester.id,
        durationSeconds: 900,
        now: h.clock.now,
      }),
    });
    sandbox.injectFault({
      service: "iam",
      action: "ListRolePolicies",
      status: 500,
      code: "ServiceFailure",
      times: 1,
    });
    expect(await h.broker.drift.run()).toMatchObject({ scanned: 1, listFailures: 1, corrected: 0 });
    expect(policies()).toEqual([`leasehold-revoke-${unknownId}`]);
    expect(await h.broker.drift.run()).toMatchObject({ listFailures: 0, corrected: 1 });
    expect(policies()).toEqual([]);
  });

  it("a removal IAM refuses is counted, not audited, and done at the next scan", async () => {
    const unknownId = randomUUID();
    await denyFor(
      newGrant({
        id: unknownId,
        requestId: null,
        targetId: prodTarget.id,
        principalId: requester.id,
        durationSeconds: 900,
        now: h.clock.now,
      }),
    );
    const before = (await driftEvents()).length;
    sandbox.injectFault({
      service: "iam",
      action: "DeleteRolePolicy",
      status: 500,
      code: "ServiceFailure",
      times: 1,
    });
    expect(await h.broker.drift.run()).toMatchObject({ unowned: 1, corrected: 0, removeFailures: 1 });
    expect(policies()).toEqual([`leasehold-revoke-${unknownId}`]);
    expect(await driftEvents()).toHaveLength(before);
    expect(await h.broker.drift.run()).toMatchObject({ corrected: 1, removeFailures: 0 });
    expect(policies()).toEqual([]);
    expect(await driftEvents()).toHaveLength(before + 1);
  });
});
