import { createServer } from "node:net";
import { type CredentialProvider, sessionNameFor } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { approvedProdGrant, createHarness, type Harness, ROLE_ARN, stsProviderAt } from "./test-harness.js";

/** A loopback port nothing listens on: an AWS that cannot be reached. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const stsProvider = (endpoint: string) => stsProviderAt(endpoint, { maxAttempts: 2 }).provider;

/**
 * Invariant 13: a transient backend failure never turns an approved request into a failure the
 * person must redo. The grant waits (and says why) until its target's issue window closes.
 */
describe("an approved grant while STS cannot be reached", () => {
  let sandbox: AwsSandbox;
  let reachable: CredentialProvider;
  let unreachable: CredentialProvider;
  let current: CredentialProvider;
  let h: Harness;
  /** Whichever of the two the test says is current: STS down, or STS answering. */
  const switching: CredentialProvider = {
    kind: "aws-role",
    issue: (input) => current.issue(input),
    discardEarlierAttempts: (input) => current.discardEarlierAttempts(input),
    revoke: (input) => current.revoke(input),
    expire: (input) => current.expire(input),
    release: (input) => current.release(input),
    needsRelease: (grant) => current.needsRelease(grant),
  };

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }] });
    reachable = stsProvider(sandbox.url);
    unreachable = stsProvider(`http://127.0.0.1:${await closedPort()}`);
    h = await createHarness("pglite", switching);
  });
  afterAll(async () => {
    await h.close();
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
    h.clock.now = new Date();
  });

  const approvedGrant = async () => (await approvedProdGrant(h.broker)).grant;
  const grantNow = async (id: string) => h.deps.store.read((r) => r.grants.findById(id));

  it("keeps issuing and says why, writes no deny for attempts AWS never saw, and issues once STS is back", async () => {
    const grant = await approvedGrant();
    current = unreachable;
    // Even the job's last attempt does not end it: the sweep queues it again within the window.
    await expect(h.broker.grants.issue(grant.id, { isLast: true })).rejects.toThrow(/ECONNREFUSED/);
    await expect(h.broker.grants.issue(grant.id, { isLast: true })).rejects.toThrow(/ECONNREFUSED/);
    const waiting = await grantNow(grant.id);
    expect(waiting).toMatchObject({ state: "issuing", issueAttempts: 0 });
    expect(waiting?.lastError).toMatch(/ECONNREFUSED.*retrying until /);

    current = reachable;
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    expect(await grantNow(grant.id)).toMatchObject({ state: "active", issueAttempts: 1, lastError: null });
    expect(sandbox.issued.map((s) => s.roleSessionName)).toEqual([sessionNameFor(grant.id, 1)]);
    expect(sandbox.rolePolicies("ProdReadOnly")).toEqual({});
  });

  it("an attempt STS may have seen keeps its number, and the retry denies its session", async () => {
    const grant = await approvedGrant();
    current = reachable;
    sandbox.injectFault({
      service: "sts",
      action: "AssumeRole",
      status: 500,
      code: "InternalFailure",
      times: 2,
    });
    await expect(h.broker.grants.issue(grant.id, { isLast: true })).rejects.toThrow(/InternalFailure/);
    expect(await grantNow(grant.id)).toMatchObject({ state: "issuing", issueAttempts: 1 });
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    const discard = sandbox.rolePolicies("ProdReadOnly")[`leasehold-discard-${grant.id}`];
    expect(JSON.parse(discard ?? "{}").Statement[0].Condition.StringLike["aws:userid"]).toEqual([
      `*:${sessionNameFor(grant.id, 1)}`,
    ]);
  });

  it("fails, saying so, once the target's issue window has closed", async () => {
    const grant = await approvedGrant();
    current = unreachable;
    await expect(h.broker.grants.issue(grant.id, { isLast: false })).rejects.toThrow(/ECONNREFUSED/);
    expect((await grantNow(grant.id))?.state).toBe("issuing");
    // prod-readonly keeps the default window: an hour after the approval.
    h.clock.advance(3601);
    await expect(h.broker.grants.issue(grant.id, { isLast: false })).rejects.toThrow(/ECONNREFUSED/);
    expect(await grantNow(grant.id)).toMatchObject({
      state: "failed",
      lastError: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});
