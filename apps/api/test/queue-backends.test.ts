import { grantJobId } from "@leasehold/queue";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { queueBackends, ROLE_ARN, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * The grant lifecycle on each queue backend (LEASEHOLD_QUEUE_BACKEND), with the API and worker as real
 * processes: the issue job, the delayed expiry job under the grant's job id, and the sweep catching up
 * after the store lost every job. Sessions are issued 890 s old, so deadlines are ~10 s away.
 */
const SESSION_AGE_ON_ISSUE = 890;
const SWEEP_SECONDS = 3;

describe.each(queueBackends)("grants with their queues on %s", (queueBackend) => {
  let sandbox: AwsSandbox;
  let issuer: OidcIssuer;
  let stack: Stack;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }],
      sessionAgeOnIssueSeconds: SESSION_AGE_ON_ISSUE,
    });
    issuer = await startOidcIssuer();
    stack = await startStack({
      sandbox,
      issuerUrl: issuer.url,
      config: TEST_CONFIG,
      queueBackend,
      sweepIntervalSeconds: SWEEP_SECONDS,
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await issuer?.close();
    await sandbox?.close();
  });

  const approvedGrant = async (): Promise<string> => {
    const request = await stack.client(await tokenFor(issuer, "dev")).requests.create.mutate({
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "queue backend test",
    });
    for (const who of ["alice", "bob"] as const) {
      await stack.client(await tokenFor(issuer, who)).reviews.submit.mutate({
        requestId: request.id,
        decision: "approve",
      });
    }
    const [row] = await stack.db.query<{ id: string }>("SELECT id FROM grants WHERE request_id = $1", [
      request.id,
    ]);
    return row?.id ?? "";
  };
  const grant = async (id: string) =>
    (
      await stack.db.query<{ state: string; expires_at: Date | null; ended_at: Date | null }>(
        "SELECT state, expires_at, ended_at FROM grants WHERE id = $1",
        [id],
      )
    )[0];
  const whenState = (id: string, state: string, timeoutMs = 30_000) =>
    eventually(async () => ((await grant(id))?.state === state ? grant(id) : undefined), timeoutMs, state);

  /** Whether the store holds a delayed expiry job whose id is the grant's (`grantJobId`). */
  const expiryJobWaits = async (grantId: string): Promise<boolean> => {
    const jobId = grantJobId(grantId);
    if (queueBackend === "redis") {
      return (await stack.redis.zscore(`${stack.queuePrefix}:grant-expire:delayed`, jobId)) !== null;
    }
    const schema = `queue_${stack.queuePrefix.replaceAll("-", "_")}`;
    const rows = await stack.db.query(
      `SELECT 1 FROM ${schema}.job WHERE queue = 'grant-expire' AND id = $1 AND state = 'delayed'`,
      [jobId],
    );
    return rows.length === 1;
  };

  it("a grant is issued by its job, waits as a delayed expiry job under its own job id, and ends on time", async () => {
    const id = await approvedGrant();
    const active = await whenState(id, "active");
    // The worker schedules the expiry just after the commit that made the grant active.
    expect(
      await eventually(async () => (await expiryJobWaits(id)) || undefined, 5_000, "the expiry job"),
    ).toBe(true);
    const ended = await whenState(id, "expired");
    const deadline = active?.expires_at?.getTime() ?? 0;
    expect(ended?.ended_at?.getTime()).toBeGreaterThanOrEqual(deadline);
    expect(sandbox.issued.filter((s) => s.roleSessionName.startsWith(`lh-${id}`))).toHaveLength(1);
  }, 60_000);

  it("the store loses every job: the sweep ends the grants on time, and new grants are issued", async () => {
    const ids = [await approvedGrant(), await approvedGrant()];
    const active = await Promise.all(ids.map((id) => whenState(id, "active")));
    await stack.loseQueuedJobs();
    for (const id of ids) expect(await expiryJobWaits(id)).toBe(false);
    const ended = await Promise.all(ids.map((id) => whenState(id, "expired")));
    for (const [i, row] of ended.entries()) {
      const deadline = active[i]?.expires_at?.getTime() ?? 0;
      // No job left to end it: the sweep did, within an interval (and its catch-up) of the deadline.
      expect(row?.ended_at?.getTime() ?? 0).toBeLessThan(deadline + (SWEEP_SECONDS + 2) * 1000);
    }
    await whenState(await approvedGrant(), "active");
  }, 90_000);
});
