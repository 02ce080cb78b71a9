import { randomUUID } from "node:crypto";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ConflictError, ForbiddenError, newGrant, UpstreamError } from "@leasehold/domain";
import { type Credential, type CredentialProvider, sessionNameFor } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_RECONCILE_OPTIONS } from "./reconcile-service.js";
import {
  admin,
  approve,
  approvedProdGrant,
  approverA,
  approverB,
  askForProd,
  createHarness,
  expireAll,
  type Harness,
  outsider,
  ROLE_ARN,
  requester,
  stsProviderAt,
} from "./test-harness.js";

/** The delivered credential as the AWS session it must be. */
const awsSession = (credential: Credential) => {
  if (credential.kind !== "aws-session") throw new Error(`expected an AWS session, got ${credential.kind}`);
  return credential;
};

const last = { isLast: true };
const notLast = { isLast: false };

describe("grant lifecycle against the STS and IAM stand-ins", () => {
  let sandbox: AwsSandbox;
  let provider: CredentialProvider;
  let h: Harness;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }] });
    ({ provider } = stsProviderAt(sandbox.url));
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

  /** An approved request's grant, still issuing. */
  const approvedGrant = (ticket?: string) => approvedProdGrant(h.broker, ticket ? { ticket } : {});
  const grantNow = (id: string) => h.deps.store.read((r) => r.grants.findById(id));
  const actions = async (subjectId: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId }))).map(
      (e) => e.action,
    );

  it("issues an STS session with the requester's identity, the approvals as tags and the asked duration", async () => {
    const { request, grant } = await approvedGrant("OPS-7");
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");

    const [session] = sandbox.issued;
    expect(sandbox.issued).toHaveLength(1);
    expect(session).toMatchObject({
      roleArn: ROLE_ARN,
      roleSessionName: sessionNameFor(grant.id, 1),
      sourceIdentity: requester.id,
      durationSeconds: 3600,
      tags: {
        "lh-request": request.id,
        "lh-grant": grant.id,
        "lh-requester": requester.id,
        "lh-approvers": `${approverA.id} ${approverB.id}`,
        "lh-ticket": "OPS-7",
        environment: "production",
      },
    });
    const active = await grantNow(grant.id);
    expect(active).toMatchObject({ state: "active", issueAttempts: 1 });
    expect(active?.expiresAt?.toISOString()).toBe(session?.expiration.toISOString());
    expect(h.enqueued).toContainEqual({ queue: "expire", grantId: grant.id, deadline: session?.expiration });
    expect(await actions(grant.id)).toEqual(["grant.created", "grant.issued"]);
  });

  it("delivers working credentials to the requester only, and audits each read", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    await expect(h.broker.grants.credentials(outsider, grant.id)).rejects.toThrow(ForbiddenError);
    await expect(h.broker.grants.credentials(approverA, grant.id)).rejects.toThrow(ForbiddenError);
    await expect(h.broker.grants.credentials(admin, grant.id)).rejects.toThrow(ForbiddenError);

    const delivered = await h.broker.grants.credentials(requester, grant.id);
    expect(delivered.secret.kind).toBe("aws-session");
    const secret = awsSession(delivered.secret);
    expect(secret.accessKeyId).toMatch(/^ASIA/);
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials: {
        accessKeyId: secret.accessKeyId,
        secretAccessKey: secret.secretAccessKey,
        sessionToken: secret.sessionToken,
      },
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toContain(`assumed-role/ProdReadOnly/${sessionNameFor(grant.id, 1)}`);
    expect(await actions(grant.id)).toEqual(["grant.created", "grant.issued", "grant.credentials_read"]);

    // Nothing secret in the audit trail or the stored reference.
    const trail = JSON.stringify(await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000 })));
    expect(trail).not.toContain(secret.secretAccessKey);
    expect(trail).not.toContain(secret.sessionToken);
    expect(JSON.stringify(await grantNow(grant.id))).not.toContain(secret.secretAccessKey);
  });

  it("a stored credential moved to another grant's row does not open", async () => {
    const first = await approvedGrant();
    await h.broker.grants.issue(first.grant.id, notLast);
    const second = await approvedGrant();
    await h.broker.grants.issue(second.grant.id, notLast);
    await h.db.query(
      "UPDATE grants SET credential = (SELECT credential FROM grants WHERE id = $1) WHERE id = $2",
      [first.grant.id, second.grant.id],
    );
    await expect(h.broker.grants.credentials(requester, second.grant.id)).rejects.toThrow();
  });

  it("a database writer who hands an active grant to someone else, or to another target, gets nothing delivered", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    // As someone with write access to the database, but not the master key, would.
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, outsider.id]);
    // The row's MAC refuses it first; the credential, sealed for the holder and target, would not open either.
    await expect(h.broker.grants.credentials(outsider, grant.id)).rejects.toThrow(
      /changed outside Leasehold/,
    );
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, requester.id]);
    expect((await h.broker.grants.credentials(requester, grant.id)).secret.kind).toBe("aws-session");
    await h.db.query("UPDATE grants SET target_id = 'another-target' WHERE id = $1", [grant.id]);
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(
      /changed outside Leasehold/,
    );
  });

  it("a grant row written into the database by hand is never issued, nor is a changed one extended", async () => {
    // As someone with write access to the database, but not the master key, would: a grant nobody asked for.
    const forged = newGrant({
      id: randomUUID(),
      requestId: null,
      targetId: "prod-readonly",
      principalId: outsider.id,
      durationSeconds: 3600,
      now: h.clock.now,
    });
    await h.deps.store.transaction((r) => r.grants.insert(forged));
    await expect(h.broker.grants.issue(forged.id, notLast)).rejects.toThrow(/not in the audit trail/);
    expect(await grantNow(forged.id)).toMatchObject({ state: "failed" });
    expect(sandbox.issued).toEqual([]);

    // A real grant handed to someone else: the new holder cannot extend it into a credential of theirs.
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, outsider.id]);
    await expect(
      h.broker.grants.extend(outsider, { grantId: grant.id, extendBySeconds: 600 }),
    ).rejects.toThrow(/changed outside Leasehold .*not extended/);
    expect(sandbox.issued).toHaveLength(1);
  });

  it("a retry after an interrupted attempt denies the earlier session and activates only the latest", async () => {
    const { grant } = await approvedGrant();
    // Attempt 1 reaches STS, then the worker dies before committing: nothing recorded but the attempt.
    const attempt1 = (
      await h.deps.store.transaction((r) => r.grants.beginIssueAttempt(grant.id, h.clock.now))
    )?.grant;
    if (!attempt1) throw new Error("expected the attempt to start");
    await provider.issue({
      grant: attempt1,
      target: h.deps.targets.list()[0] as never,
      approval: null,
      checkpoint: async () => {},
    });

    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
    expect(sandbox.issued.map((s) => s.roleSessionName)).toEqual([
      sessionNameFor(grant.id, 1),
      sessionNameFor(grant.id, 2),
    ]);
    const policies = sandbox.rolePolicies("ProdReadOnly");
    const discard = policies[`leasehold-discard-${grant.id}`];
    expect(discard).toBeDefined();
    expect(JSON.parse(discard ?? "{}").Statement[0]).toMatchObject({
      Effect: "Deny",
      Condition: { StringLike: { "aws:userid": [`*:${sessionNameFor(grant.id, 1)}`] } },
    });
    const active = await grantNow(grant.id);
    expect(active).toMatchObject({ state: "active", issueAttempts: 2 });
    expect(active?.providerRef?.accessKeyId).toBe(sandbox.issued[1]?.accessKeyId);
    expect((await actions(grant.id)).filter((a) => a === "grant.issued")).toHaveLength(1);
    // A repeated job finds nothing to do.
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("skipped");
    expect(sandbox.issued).toHaveLength(2);
  });

  it("STS refusing the request fails the grant at once, with the reason and no retry", async () => {
    const { grant } = await approvedGrant();
    sandbox.injectFault({
      service: "sts",
      action: "AssumeRole",
      status: 403,
      code: "AccessDenied",
      times: 1,
    });
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(UpstreamError);
    const failed = await grantNow(grant.id);
    expect(failed).toMatchObject({ state: "failed" });
    expect(failed?.lastError).toMatch(/AccessDenied/);
    expect(await actions(grant.id)).toEqual(["grant.created", "grant.issue_failed"]);
  });

  it("throttling is retried by the job, not failed", async () => {
    const { grant } = await approvedGrant();
    sandbox.injectFault({ service: "sts", action: "AssumeRole", status: 400, code: "Throttling", times: 1 });
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(/Throttling/);
    expect((await grantNow(grant.id))?.state).toBe("issuing");
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
  });

  it("expires at the deadline, not before, and wipes the credential", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    await expect(h.broker.grants.expire(grant.id, notLast)).rejects.toThrow(/not due/);
    h.clock.now = (await grantNow(grant.id))?.expiresAt ?? h.clock.now;
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(ConflictError);
    expect(await h.broker.grants.expire(grant.id, notLast)).toBe("expired");
    const rows = await h.db.query<{ credential: unknown; released_at: Date | null }>(
      "SELECT credential, released_at FROM grants WHERE id = $1",
      [grant.id],
    );
    expect(rows[0]?.credential).toBeNull();
    expect(rows[0]?.released_at).not.toBeNull();
    expect(await h.broker.grants.expire(grant.id, notLast)).toBe("skipped");
  });

  it("expires many grants in one pass, each with its own outcome and one audit event", async () => {
    const issued = async (durationSeconds: number) => {
      const { request } = await askForProd(h.broker, { durationSeconds });
      await approve(h.broker, approverA, request.id);
      const { grant } = await approve(h.broker, approverB, request.id);
      await h.broker.grants.issue(grant?.id ?? "", notLast);
      return (await grantNow(grant?.id ?? "")) ?? expect.fail("no grant");
    };
    const due = [await issued(3600), await issued(3600)];
    const later = await issued(7200);
    h.clock.now = new Date(Math.max(...due.map((g) => g.expiresAt?.getTime() ?? 0)) + 1000);
    const unknown = "0b5e3a41-7f7e-4c2a-9d51-3b1e0f6a2c11";
    const results = await expireAll(
      h.broker,
      [...due, later, { id: unknown }].map((g) => g.id),
      notLast,
    );
    expect(results).toEqual(["expired", "expired", expect.stringMatching(/not due/), "skipped"]);
    for (const grant of due) {
      expect(await grantNow(grant.id)).toMatchObject({ state: "expired", endedAt: h.clock.now });
      expect((await actions(grant.id)).filter((a) => a === "grant.expired")).toHaveLength(1);
    }
    expect((await grantNow(later.id))?.state).toBe("active");
    const again = await expireAll(
      h.broker,
      due.map((g) => g.id),
      notLast,
    );
    expect(again).toEqual(["skipped", "skipped"]);
    expect(await h.broker.audit.verify(admin)).toMatchObject({ ok: true });
  });

  it("a grant the sweep finds more than a second past its deadline counts as overdue", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    h.clock.now = new Date(((await grantNow(grant.id))?.expiresAt?.getTime() ?? 0) + 2000);
    // Grants of earlier tests, issued before this one, are even later: every one is overdue.
    const report = await h.broker.reconcile.run();
    expect(report.overdue).toBeGreaterThanOrEqual(1);
    expect(report.overdue).toBe(report.expired);
    expect((await grantNow(grant.id))?.state).toBe("expired");
  });

  it("the check for overdue grants expires a grant more than a second past its deadline, and leaves one just due to its job", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    const deadline = (await grantNow(grant.id))?.expiresAt?.getTime() ?? 0;
    h.clock.now = new Date(deadline + 500);
    // Earlier tests' grants are all more than a second late by now; this one is not yet.
    await h.broker.reconcile.expireOverdue();
    expect((await grantNow(grant.id))?.state).toBe("active");
    h.clock.now = new Date(deadline + 1500);
    expect(await h.broker.reconcile.expireOverdue()).toEqual({ expired: 1, overdue: 1 });
    expect((await grantNow(grant.id))?.state).toBe("expired");
    expect((await actions(grant.id)).filter((a) => a === "grant.expired")).toHaveLength(1);
  });

  it("extends an active grant with a new session within policy, and only for its holder", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    const before = await grantNow(grant.id);
    const oldKey = awsSession((await h.broker.grants.credentials(requester, grant.id)).secret).accessKeyId;
    await expect(
      h.broker.grants.extend(approverA, { grantId: grant.id, extendBySeconds: 600 }),
    ).rejects.toThrow(ForbiddenError);
    // prod-readonly allows 2h in all; this grant had 1h.
    await expect(
      h.broker.grants.extend(requester, { grantId: grant.id, extendBySeconds: 4000 }),
    ).rejects.toThrow(/can be extended by at most 3\d{3} more seconds/);
    const extended = await h.broker.grants.extend(requester, { grantId: grant.id, extendBySeconds: 1800 });
    // STS reports whole seconds, so allow for the second boundary between the two sessions.
    const moved = (extended.expiresAt?.getTime() ?? 0) - (before?.expiresAt?.getTime() ?? 0);
    expect(Math.abs(moved - 1_800_000)).toBeLessThanOrEqual(1000);
    expect(extended).toMatchObject({ state: "active", issueAttempts: 2 });
    expect(Math.abs(extended.durationSeconds - 5400)).toBeLessThanOrEqual(1);
    expect(sandbox.issued.map((s) => [s.roleSessionName, s.durationSeconds])).toEqual([
      [sessionNameFor(grant.id, 1), 3600],
      [sessionNameFor(grant.id, 2), 5400],
    ]);
    const newKey = awsSession((await h.broker.grants.credentials(requester, grant.id)).secret).accessKeyId;
    expect(newKey).not.toBe(oldKey);
    expect(newKey).toBe(sandbox.issued[1]?.accessKeyId);
    expect(h.enqueued).toContainEqual({ queue: "expire", grantId: grant.id, deadline: extended.expiresAt });
    expect(await actions(grant.id)).toContain("grant.extended");
    // An extension is not an interrupted attempt: the earlier session is not denied.
    expect(sandbox.rolePolicies("ProdReadOnly")).toEqual({});
  });

  it("early revocation denies the session on the role, and the deny is pruned after the deadline", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    await expect(h.broker.grants.revoke(outsider, { grantId: grant.id })).rejects.toThrow(ForbiddenError);
    const revoking = await h.broker.grants.revoke(requester, {
      grantId: grant.id,
      reason: "done early",
    });
    expect(revoking.state).toBe("revoking");
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(/revoking/);
    expect(h.enqueued).toContainEqual({ queue: "revoke", grantId: grant.id });

    expect(await h.broker.grants.finishRevoke(grant.id, notLast)).toBe("revoked");
    const policy = sandbox.rolePolicies("ProdReadOnly")["leasehold-denials"];
    expect(
      JSON.parse(policy ?? "{}").Statement[0].Condition.StringEqualsIfExists["aws:PrincipalTag/lh-grant"],
    ).toEqual([grant.id]);

    // The sweep prunes the deny once the session has expired anyway (plus the margin).
    const expiresAt = (await grantNow(grant.id))?.expiresAt ?? new Date();
    h.clock.now = new Date(expiresAt.getTime() + 299_000);
    await h.broker.reconcile.run();
    expect(await actions(grant.id)).not.toContain("grant.released");
    h.clock.now = new Date(expiresAt.getTime() + 301_000);
    await h.broker.reconcile.run();
    expect(sandbox.rolePolicies("ProdReadOnly")).toEqual({});
    expect(await actions(grant.id)).toEqual([
      "grant.created",
      "grant.issued",
      "grant.revoke_requested",
      "grant.revoked",
      "grant.released",
    ]);
  });

  it("a grant revoked early: its session and a session chained from it are refused; another grant's session on the role still works", async () => {
    /** Role chaining from a delivered session: a call IAM governs, made with the session's credentials. */
    const chainFrom = (secret: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
      new STSClient({
        region: "us-east-1",
        endpoint: sandbox.url,
        credentials: {
          accessKeyId: secret.accessKeyId,
          secretAccessKey: secret.secretAccessKey,
          sessionToken: secret.sessionToken,
        },
        maxAttempts: 1,
      }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "chained", DurationSeconds: 900 }));
    const delivered = async (grantId: string) =>
      awsSession((await h.broker.grants.credentials(requester, grantId)).secret);

    const revoked = (await approvedGrant()).grant;
    const kept = (await approvedGrant()).grant;
    await h.broker.grants.issue(revoked.id, notLast);
    await h.broker.grants.issue(kept.id, notLast);
    const revokedSession = await delivered(revoked.id);
    const keptSession = await delivered(kept.id);
    const chained = (await chainFrom(revokedSession)).Credentials;
    // The chained session carries the grant's tag and the requester's identity (transitive, immutable).
    expect(sandbox.issued.at(-1)).toMatchObject({
      sourceIdentity: requester.id,
      tags: { "lh-grant": revoked.id, "lh-requester": requester.id },
    });
    const chainedSession = {
      accessKeyId: chained?.AccessKeyId ?? "",
      secretAccessKey: chained?.SecretAccessKey ?? "",
      sessionToken: chained?.SessionToken ?? "",
    };
    await expect(chainFrom(chainedSession)).resolves.toBeDefined();

    await h.broker.grants.revoke(requester, { grantId: revoked.id, reason: "done early" });
    expect(await h.broker.grants.finishRevoke(revoked.id, notLast)).toBe("revoked");

    for (const [who, secret] of [
      ["the grant's session", revokedSession],
      ["the session chained from it", chainedSession],
    ] as const) {
      const refusal = await chainFrom(secret).catch((e: unknown) => e);
      expect(refusal, who).toMatchObject({
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
        message: expect.stringMatching(/not authorized to perform: sts:AssumeRole .* with an explicit deny/),
      });
    }
    await expect(chainFrom(keptSession)).resolves.toBeDefined();
    expect(await grantNow(kept.id)).toMatchObject({ state: "active" });
    // Leave no active grant behind for the sweep tests below.
    h.clock.now = new Date(((await grantNow(kept.id))?.expiresAt?.getTime() ?? 0) + 1);
    expect(await h.broker.grants.expire(kept.id, notLast)).toBe("expired");
  });

  it("revocation that keeps failing becomes visible debt, and settles when IAM recovers", async () => {
    const { grant } = await approvedGrant();
    await h.broker.grants.issue(grant.id, notLast);
    await h.broker.grants.revoke(admin, { grantId: grant.id });
    sandbox.injectFault({
      service: "iam",
      action: "PutRolePolicy",
      status: 500,
      code: "ServiceFailure",
      times: 2,
    });
    await expect(h.broker.grants.finishRevoke(grant.id, notLast)).rejects.toThrow(/ServiceFailure/);
    expect((await grantNow(grant.id))?.state).toBe("revoking");
    await expect(h.broker.grants.finishRevoke(grant.id, last)).rejects.toThrow(/ServiceFailure/);
    const debt = await grantNow(grant.id);
    expect(debt).toMatchObject({ state: "revocation_failed" });
    expect(debt?.lastError).toMatch(/ServiceFailure/);
    expect(await actions(grant.id)).toContain("grant.revocation_failed");

    // The sweep retries debt after it has rested.
    h.clock.advance(301);
    await h.broker.reconcile.run();
    expect(h.enqueued.filter((e) => e.queue === "revoke" && e.grantId === grant.id)).toHaveLength(2);
    expect(await h.broker.grants.finishRevoke(grant.id, notLast)).toBe("revoked");
  });

  it("the sweep covers what Redis lost: it enqueues stuck issues and expires grants past their deadline", async () => {
    const { grant } = await approvedGrant();
    h.enqueued.length = 0;
    h.clock.advance(61);
    expect((await h.broker.reconcile.run()).issuesEnqueued).toBeGreaterThanOrEqual(1);
    expect(h.enqueued).toContainEqual({ queue: "issue", grantId: grant.id });

    await h.broker.grants.issue(grant.id, notLast);
    h.enqueued.length = 0;
    h.clock.now = new Date(((await grantNow(grant.id))?.expiresAt?.getTime() ?? 0) + 1);
    const report = await h.broker.reconcile.run();
    // A millisecond late is what a job could still have done: not counted as overdue.
    expect(report).toMatchObject({ expired: 1, overdue: 0, expiryFailures: 0 });
    expect(h.enqueued).toEqual([]);
    expect(await grantNow(grant.id)).toMatchObject({ state: "expired", endedAt: h.clock.now });
    expect((await actions(grant.id)).filter((a) => a === "grant.expired")).toHaveLength(1);
    // A second sweep, or the expiry job arriving late, finds nothing left to do.
    expect((await h.broker.reconcile.run()).expired).toBe(0);
    expect(await h.broker.grants.expire(grant.id, notLast)).toBe("skipped");
  });

  it("a provider failing at expiry fails only its own grant, which becomes debt on the last attempt", async () => {
    let failing = "";
    const flaky: CredentialProvider = {
      ...provider,
      expire: async (input) => {
        if (input.grant.id === failing) throw new UpstreamError("Vault is sealed", { retryable: true });
        await provider.expire(input);
      },
    };
    const own = await createHarness("pglite", flaky);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { request } = await askForProd(own.broker, { durationSeconds: 900 });
        await approve(own.broker, approverA, request.id);
        const { grant } = await approve(own.broker, approverB, request.id);
        await own.broker.grants.issue(grant?.id ?? "", notLast);
        ids.push(grant?.id ?? "");
      }
      failing = ids[1] ?? "";
      own.clock.advance(901);
      const outcome = (attempt: { isLast: boolean }) => expireAll(own.broker, ids, attempt);
      expect(await outcome(notLast)).toEqual(["expired", "Vault is sealed", "expired"]);
      const state = async (id: string) => (await own.deps.store.read((r) => r.grants.findById(id)))?.state;
      expect(await state(failing)).toBe("active");
      expect(await outcome(last)).toEqual(["skipped", "Vault is sealed", "skipped"]);
      expect(await state(failing)).toBe("revocation_failed");
    } finally {
      await own.close();
    }
  });

  it("the sweep drains every grant past its deadline, however many batches that takes", async () => {
    const small = await createHarness("pglite", provider, {
      reconcile: { ...DEFAULT_RECONCILE_OPTIONS, batch: 2 },
      expiry: { providerCallsAtOnce: 2 },
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { request } = await askForProd(small.broker, { durationSeconds: 900 });
        await approve(small.broker, approverA, request.id);
        const { grant } = await approve(small.broker, approverB, request.id);
        if (!grant) throw new Error("expected a grant");
        expect(await small.broker.grants.issue(grant.id, notLast)).toBe("issued");
        ids.push(grant.id);
      }
      small.clock.advance(901);
      expect(await small.broker.reconcile.run()).toMatchObject({ expired: 5, expiryFailures: 0 });
      const states = await small.db.query<{ state: string }>("SELECT state FROM grants WHERE id = ANY($1)", [
        ids,
      ]);
      expect(states.map((r) => r.state)).toEqual(Array(5).fill("expired"));
    } finally {
      await small.close();
    }
  });
});
