import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ROLE_ARN, TEST_CONFIG, tokenFor } from "./people.js";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * Invariants 4 and 5 with real processes: a worker killed between the STS call and the commit does
 * not issue twice, and grants are expired on time even when Redis lost their jobs.
 */
const SESSION_AGE_ON_ISSUE = 890; // sessions end ~10 s after issue (see end-to-end.test.ts)

describe("crashes and lost jobs", () => {
  let sandbox: AwsSandbox;
  let issuer: OidcIssuer;
  let stack: Stack;
  /** Set by a test to act at the moment STS has issued but the worker has not heard. */
  let onIssued: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE_ARN }],
      sessionAgeOnIssueSeconds: SESSION_AGE_ON_ISSUE,
      beforeAssumeRoleResponse: async () => {
        const act = onIssued;
        onIssued = undefined;
        await act?.();
      },
    });
    issuer = await startOidcIssuer();
    stack = await startStack({ sandbox, issuerUrl: issuer.url, config: TEST_CONFIG, jobLockSeconds: 2 });
  }, 90_000);
  afterEach(() => {
    sandbox.clearRecords();
  });
  afterAll(async () => {
    await stack?.stop();
    await issuer?.close();
    await sandbox?.close();
  });

  const approvedGrant = async () => {
    const dev = stack.client(await tokenFor(issuer, "dev"));
    const request = await dev.requests.create.mutate({
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "resilience test",
    });
    await stack.client(await tokenFor(issuer, "alice")).reviews.submit.mutate({
      requestId: request.id,
      decision: "approve",
    });
    const approved = await stack.client(await tokenFor(issuer, "bob")).reviews.submit.mutate({
      requestId: request.id,
      decision: "approve",
    });
    return { dev, grantId: approved.grantId ?? "" };
  };
  const whenState = (dev: Awaited<ReturnType<typeof approvedGrant>>["dev"], grantId: string, state: string) =>
    eventually(
      async () => {
        const grant = await dev.grants.get.query({ grantId });
        return grant.state === state ? grant : undefined;
      },
      40_000,
      `grant ${grantId} to be ${state}`,
    );
  const auditActions = async (grantId: string) =>
    (
      await stack.db.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY seq",
        [grantId],
      )
    ).map((r) => r.action);

  it("a worker killed after the STS call and restarted issues once, and denies the lost session", async () => {
    const killed = new Promise<void>((resolve) => {
      onIssued = async () => {
        stack.killWorker();
        await stack.workerExited();
        resolve();
      };
    });
    const { dev, grantId } = await approvedGrant();
    await killed;
    expect(sandbox.issued.map((s) => s.roleSessionName)).toEqual([`lh-${grantId}-a1`]);
    expect((await dev.grants.get.query({ grantId })).state).toBe("issuing");

    await stack.startWorker();
    const active = await whenState(dev, grantId, "active");

    expect(sandbox.issued.map((s) => s.roleSessionName)).toEqual([`lh-${grantId}-a1`, `lh-${grantId}-a2`]);
    const creds = await dev.grants.credentials.mutate({ grantId });
    expect(creds.credential.accessKeyId).toBe(sandbox.issued[1]?.accessKeyId);
    expect(active.reference).toMatchObject({ sessionName: `lh-${grantId}-a2` });
    const discard = JSON.parse(
      sandbox.rolePolicies("ProdReadOnly")[`leasehold-discard-${grantId}`] ?? "null",
    );
    expect(discard?.Statement?.[0]).toMatchObject({
      Effect: "Deny",
      Condition: { StringLike: { "aws:userid": [`*:lh-${grantId}-a1`] } },
    });
    const rows = await stack.db.query<{ count: string }>(
      "SELECT count(*)::text AS count FROM grants WHERE request_id = (SELECT request_id FROM grants WHERE id = $1)",
      [grantId],
    );
    expect(rows).toEqual([{ count: "1" }]);
    expect((await auditActions(grantId)).filter((a) => a === "grant.issued")).toHaveLength(1);
  }, 90_000);

  it("the sweep expires a grant whose expiry job was deleted from Redis", async () => {
    const { dev, grantId } = await approvedGrant();
    const active = await whenState(dev, grantId, "active");
    const queue = new Queue("grant-expire", { connection: stack.redis, prefix: stack.queuePrefix });
    try {
      const job = await queue.getJob(grantId);
      expect(await job?.getState()).toBe("delayed");
      await job?.remove();
      expect(await queue.getJob(grantId)).toBeUndefined();
    } finally {
      await queue.close();
    }
    const expired = await whenState(dev, grantId, "expired");
    expect(new Date(expired.endedAt ?? "").getTime()).toBeGreaterThanOrEqual(
      new Date(active.expiresAt ?? "").getTime(),
    );
    expect(await auditActions(grantId)).toContain("grant.expired");
  }, 90_000);
});
