import { IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { type Grant, UpstreamError } from "@leasehold/domain";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DenialLedger, DenialOutcome } from "../denial-ledger.js";
import { toAwsError } from "./aws-errors.js";
import { type AwsRoleTarget, awsRoleTargetSchema } from "./aws-role-schemas.js";
import { sessionTagsFor, sourceIdentityFor } from "./session-identity.js";
import { type AwsStsProvider, createAwsStsProvider } from "./sts-provider.js";

const ROLE = "arn:aws:iam::123456789012:role/team/Deploy";

const target: AwsRoleTarget = awsRoleTargetSchema.parse({
  id: "deploy",
  kind: "aws-role",
  requesters: { groups: ["eng"] },
  approvers: { groups: ["sre"] },
  requiredApprovals: 1,
  maxDuration: "12h",
  aws: {
    roleArn: ROLE,
    externalId: "leasehold-deploy",
    sessionPolicy: {
      Version: "2012-10-17",
      // Role chaining too: the tests chain from issued sessions, and a session policy narrows the session.
      Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "sts:AssumeRole"], Resource: "*" }],
    },
  },
});

const grant = (overrides: Partial<Grant> = {}): Grant => ({
  id: "6f1c0000-0000-4000-8000-000000000001",
  requestId: "6f1c0000-0000-4000-8000-000000000002",
  targetId: "deploy",
  principalId: "dev@example.com",
  state: "issuing",
  durationSeconds: 900,
  createdAt: new Date(),
  issuedAt: null,
  expiresAt: null,
  endedAt: null,
  providerRef: null,
  issueAttempts: 1,
  lastError: null,
  ...overrides,
});

describe("source identity and tags", () => {
  it("uses an acceptable principal id as it is", () => {
    expect(sourceIdentityFor("dev@example.com")).toBe("dev@example.com");
  });

  it("makes any other id acceptable to STS, and keeps distinct ids distinct", () => {
    const ids = ["ci:repo/app", "aws:admin@example.com", `${"x".repeat(80)}@example.com`, "ci:repo/app2"];
    const identities = ids.map(sourceIdentityFor);
    for (const identity of identities) {
      expect(identity).toMatch(/^[\w+=,.@-]{2,64}$/);
      expect(identity.toLowerCase().startsWith("aws:")).toBe(false);
    }
    expect(new Set(identities).size).toBe(ids.length);
  });

  it("fits many approvers in one tag value and says how many were left out", () => {
    const approvers = Array.from({ length: 20 }, (_, i) => `approver-number-${i}@example.com`);
    const tags = sessionTagsFor(grant(), target as never, {
      requestId: "r",
      ticket: null,
      approvers,
      scopes: [],
    });
    const value = tags.find((t) => t.Key === "lh-approvers")?.Value ?? "";
    expect(value.length).toBeLessThanOrEqual(256);
    expect(value).toMatch(/\+\d+ more$/);
  });
});

describe("AWS error classification", () => {
  const awsError = (name: string, status?: number) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      ...(status ? { $metadata: { httpStatusCode: status } } : {}),
    });

  it.each([
    ["Throttling", 400, true],
    ["InternalFailure", 500, true],
    ["AccessDenied", 403, false],
    ["ValidationError", 400, false],
    ["ExpiredToken", 403, false],
  ])("%s (HTTP %s) retryable: %s", (name, status, retryable) => {
    const error = toAwsError(awsError(name, status), "STS AssumeRole");
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.retryable).toBe(retryable);
    expect(error.upstreamCode).toBe(name);
  });

  it("a network failure is retryable", () => {
    const error = toAwsError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "x");
    expect(error.retryable).toBe(true);
  });
});

describe("the STS provider against the stand-in", () => {
  let sandbox: AwsSandbox;
  let provider: AwsStsProvider;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE, maxSessionDurationSeconds: 3600, externalId: "leasehold-deploy" }],
    });
    const config = {
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials: SANDBOX_ACCESS_KEY,
      maxAttempts: 1,
    };
    provider = createAwsStsProvider({ sts: new STSClient(config), iam: new IAMClient(config) });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  it("checks its connection with GetCallerIdentity; an unreachable STS fails retryably", async () => {
    await expect(provider.checkConnection?.({ target })).resolves.toBeUndefined();
    const config = { region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials: SANDBOX_ACCESS_KEY };
    const gone = createAwsStsProvider({
      sts: new STSClient({ ...config, maxAttempts: 1 }),
      iam: new IAMClient({ ...config, maxAttempts: 1 }),
    });
    const error = await gone.checkConnection?.({ target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/GetCallerIdentity/) });
  });

  it("passes the session policy and external id, and returns the session's expiry", async () => {
    const issued = await provider.issue({
      grant: grant(),
      target,
      approval: null,
      checkpoint: async () => {},
    });
    expect(sandbox.issued[0]).toMatchObject({
      externalId: "leasehold-deploy",
      policy: target.kind === "aws-role" ? target.aws.sessionPolicy : "",
      tags: { "lh-request": "none", "lh-approvers": "" },
    });
    expect(issued.expiresAt.getTime()).toBe(sandbox.issued[0]?.expiration.getTime());
    expect(issued.reference).not.toHaveProperty("secretAccessKey");
    expect(Object.values(issued.reference)).not.toContain(issued.secret.secretAccessKey);
  });

  it("a duration over the role's MaxSessionDuration is refused by STS and not retried", async () => {
    const error = await provider
      .issue({ grant: grant({ durationSeconds: 7200 }), target, approval: null, checkpoint: async () => {} })
      .catch((e) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: false, upstreamCode: "ValidationError" });
  });

  /** An STS client signing with an issued session's credentials. */
  const stsAs = (secret: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
    new STSClient({
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials: {
        accessKeyId: secret.accessKeyId,
        secretAccessKey: secret.secretAccessKey,
        sessionToken: secret.sessionToken,
      },
      maxAttempts: 1,
    });
  /** Role chaining from a session: a call IAM governs, made with the session's credentials. */
  const chain = (secret: Parameters<typeof stsAs>[0], name: string) =>
    stsAs(secret).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: name,
        DurationSeconds: 900,
        ExternalId: "leasehold-deploy",
      }),
    );
  const issueGrant = async (overrides: Partial<Grant>) => {
    const approval = { requestId: "r-1", ticket: "OPS-1", approvers: ["a@example.com"], scopes: [] };
    return provider.issue({ grant: grant(overrides), target, approval, checkpoint: async () => {} });
  };

  it("makes Leasehold's session tags transitive, so a chained session carries them and the SourceIdentity", async () => {
    const issued = await issueGrant({});
    expect(sandbox.issued[0]?.transitiveTagKeys).toEqual([
      "lh-request",
      "lh-grant",
      "lh-requester",
      "lh-approvers",
      "lh-ticket",
    ]);
    await chain(issued.secret, "chained");
    expect(sandbox.issued[1]).toMatchObject({
      roleSessionName: "chained",
      sourceIdentity: "dev@example.com",
      tags: {
        "lh-request": "r-1",
        "lh-grant": grant().id,
        "lh-requester": "dev@example.com",
        "lh-approvers": "a@example.com",
        "lh-ticket": "OPS-1",
      },
    });
  });

  /**
   * The broker's denial ledger as the provider sees it: the grants on the role, one writer at a
   * time (the tests call it one at a time), and the outcomes it was told of.
   */
  const ledgerOver = (grants: Grant[], now = () => new Date()) => {
    const outcomes: DenialOutcome[] = [];
    const ledger: DenialLedger = {
      async exclusive(scope, work) {
        expect(scope.key).toBe(`aws-role:${ROLE}`);
        expect(scope.sameScope(target)).toBe(true);
        outcomes.push(
          await work(
            grants.filter((g) => g.id !== scope.excluding),
            now(),
          ),
        );
      },
    };
    return { ledger, outcomes };
  };
  const id = (n: number) => `6f1c0000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const denialsPolicy = () => JSON.parse(sandbox.rolePolicies("Deploy")["leasehold-denials"] ?? "null");

  it("a revoked grant's session and the sessions chained from it are refused; the requester's other grant is not", async () => {
    const revokedId = id(0xaa);
    const keptId = id(0xbb);
    const revoked = await issueGrant({ id: revokedId });
    const kept = await issueGrant({ id: keptId });
    const chained = (await chain(revoked.secret, "chained-before")).Credentials;
    const chainedSecret = {
      accessKeyId: chained?.AccessKeyId ?? "",
      secretAccessKey: chained?.SecretAccessKey ?? "",
      sessionToken: chained?.SessionToken ?? "",
    };
    const revokedGrant = grant({ id: revokedId, state: "revoking" });
    const { ledger } = ledgerOver([revokedGrant, grant({ id: keptId, state: "active" })]);

    await provider.revoke({ grant: revokedGrant, target, denials: ledger });

    for (const secret of [revoked.secret, chainedSecret]) {
      const refusal = await chain(secret, "after-revoke").catch((e: unknown) => e);
      expect(refusal).toMatchObject({
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
        message: expect.stringMatching(
          /is not authorized to perform: sts:AssumeRole .* with an explicit deny/,
        ),
      });
    }
    await expect(chain(kept.secret, "kept")).resolves.toBeDefined();
    expect(Object.keys(sandbox.rolePolicies("Deploy"))).toEqual(["leasehold-denials"]);
    expect(denialsPolicy().Statement).toEqual([
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: {
          StringEqualsIfExists: { "aws:PrincipalTag/lh-grant": [revokedId] },
          StringEquals: { "aws:SourceIdentity": ["dev@example.com"] },
        },
      },
    ]);
  });

  it("revoke and release are idempotent; release leaves the other revocations on the role", async () => {
    const first = grant({ id: id(1), state: "revoked" });
    const second = grant({ id: id(2), state: "revoked", principalId: "ops@example.com" });
    const { ledger } = ledgerOver([first, second]);
    await provider.revoke({ grant: first, target, denials: ledger });
    await provider.revoke({ grant: first, target, denials: ledger });
    expect(Object.keys(sandbox.rolePolicies("Deploy"))).toEqual(["leasehold-denials"]);
    await provider.release({ grant: first, target, denials: ledger });
    await provider.release({ grant: first, target, denials: ledger });
    expect(denialsPolicy().Statement[0].Condition).toEqual({
      StringEqualsIfExists: { "aws:PrincipalTag/lh-grant": [second.id] },
      StringEquals: { "aws:SourceIdentity": ["ops@example.com"] },
    });
    await provider.release({ grant: second, target, denials: ledgerOver([]).ledger });
    expect(sandbox.rolePolicies("Deploy")).toEqual({});
  });

  it("takes over the per-grant revocation policies of earlier versions, and counts the role's own policies in its budget", async () => {
    const putOwn = (PolicyName: string, PolicyDocument: string) =>
      new IAMClient({ region: "us-east-1", endpoint: sandbox.url, credentials: SANDBOX_ACCESS_KEY }).send(
        new PutRolePolicyCommand({ RoleName: "Deploy", PolicyName, PolicyDocument }),
      );
    await putOwn(
      `leasehold-revoke-${id(7)}`,
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] }),
    );
    const own = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "s3:DeleteBucket", Resource: "*", Sid: "x".repeat(8900) }],
    });
    await putOwn("teams-own", own);
    // 9,000 characters are the role's own: 60 revocations of different people no longer fit one by one.
    const revoked = Array.from({ length: 60 }, (_, n) =>
      grant({ id: id(n), state: "revoked", principalId: `person-${n}@example.com`, endedAt: new Date() }),
    );
    const { ledger, outcomes } = ledgerOver(
      [grant({ id: id(7), state: "revoked" }), ...revoked],
      () => new Date(Date.now() + 600_000),
    );
    await provider.revoke({ grant: revoked[0] as Grant, target, denials: ledger });
    expect(Object.keys(sandbox.rolePolicies("Deploy")).sort()).toEqual(["leasehold-denials", "teams-own"]);
    expect(outcomes[0]?.cutoff).toMatchObject({ revocations: 61, kept: 0, continued: false });
    // The budget figure counts the role's own policy and the denials written, as IAM does.
    const written = Object.values(sandbox.rolePolicies("Deploy"))
      .map((doc) => String(doc).replace(/\s/g, "").length)
      .reduce((sum, n) => sum + n, 0);
    expect(outcomes[0]?.budget).toEqual({ used: written, limit: 10_240 });
    expect(written).toBeGreaterThan(9_000);
  });

  it("when the revocations outgrow the budget, a cut-off refuses every older session except the live grants'", async () => {
    const live = await issueGrant({ id: id(0xbb) });
    const revokedSessions = [];
    for (let n = 0; n < 3; n++) revokedSessions.push(await issueGrant({ id: id(n) }));
    const outsider = await new STSClient({
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials: SANDBOX_ACCESS_KEY,
    }).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: "outside-leasehold",
        ExternalId: "leasehold-deploy",
      }),
    );
    // 400 revocations of one workload: far past what fits one by one, and past the room left to
    // workloads; all made more than the settling time before the cut-off.
    const revoked = Array.from({ length: 400 }, (_, n) =>
      grant({
        id: id(n),
        requestId: null,
        state: "revoked",
        endedAt: new Date(),
        principalId: "ci:repo/app",
      }),
    );
    const { ledger, outcomes } = ledgerOver(
      [grant({ id: id(0xbb), state: "active" }), ...revoked],
      () => new Date(Date.now() + 600_000),
    );
    await provider.revoke({ grant: revoked[0] as Grant, target, denials: ledger });

    expect(outcomes[0]).toMatchObject({ scope: ROLE, cutoff: { revocations: 400, kept: 1 }, ended: [] });
    for (const session of revokedSessions) {
      await expect(chain(session.secret, "after-cutoff")).rejects.toMatchObject({ name: "AccessDenied" });
    }
    const outsiderSecret = {
      accessKeyId: outsider.Credentials?.AccessKeyId ?? "",
      secretAccessKey: outsider.Credentials?.SecretAccessKey ?? "",
      sessionToken: outsider.Credentials?.SessionToken ?? "",
    };
    await expect(chain(outsiderSecret, "outsider")).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(chain(live.secret, "live")).resolves.toBeDefined();
  });
});
