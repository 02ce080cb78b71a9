import { IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { type Grant, UpstreamError } from "@leasehold/domain";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
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
    const tags = sessionTagsFor(grant(), target as never, { requestId: "r", ticket: null, approvers });
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
    const approval = { requestId: "r-1", ticket: "OPS-1", approvers: ["a@example.com"] };
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

  it("a revoked grant's session and the sessions chained from it are refused; the requester's other grant is not", async () => {
    const revokedId = "6f1c0000-0000-4000-8000-0000000000aa";
    const keptId = "6f1c0000-0000-4000-8000-0000000000bb";
    const revoked = await issueGrant({ id: revokedId });
    const kept = await issueGrant({ id: keptId });
    const chained = (await chain(revoked.secret, "chained-before")).Credentials;
    const chainedSecret = {
      accessKeyId: chained?.AccessKeyId ?? "",
      secretAccessKey: chained?.SecretAccessKey ?? "",
      sessionToken: chained?.SessionToken ?? "",
    };

    await provider.revoke({ grant: grant({ id: revokedId, state: "revoked" }), target });

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
    const policy = JSON.parse(sandbox.rolePolicies("Deploy")[`leasehold-revoke-${revokedId}`] ?? "{}");
    expect(policy.Statement).toEqual([
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { StringLike: { "aws:userid": [`*:lh-${revokedId}-a*`] } },
      },
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: {
          StringEqualsIfExists: { "aws:PrincipalTag/lh-grant": revokedId },
          StringEquals: { "aws:SourceIdentity": "dev@example.com" },
        },
      },
    ]);
  });

  it("revoke and release are idempotent", async () => {
    const revoked = grant({ state: "revoked" });
    await provider.revoke({ grant: revoked, target });
    await provider.revoke({ grant: revoked, target });
    expect(Object.keys(sandbox.rolePolicies("Deploy"))).toEqual([`leasehold-revoke-${revoked.id}`]);
    await provider.release({ grant: revoked, target });
    await provider.release({ grant: revoked, target });
    expect(sandbox.rolePolicies("Deploy")).toEqual({});
  });

  it("a role whose inline-policy budget is full makes revocation fail loudly", async () => {
    for (let i = 0; i < 100; i++) {
      const id = `6f1c0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const result = await provider.revoke({ grant: grant({ id }), target }).catch((e: unknown) => e);
      if (result instanceof UpstreamError) {
        expect(result.upstreamCode).toMatch(/LimitExceeded/);
        expect(i).toBeGreaterThan(20);
        // Measured: how many revocations one role holds (README, "Known limits"). 50 when a
        // revocation denied only aws:userid; 26 now that it also covers chained sessions.
        expect(i).toBe(26);
        return;
      }
    }
    throw new Error("expected IAM to refuse once the 10,240-character budget was used");
  });

  it("with the longest SourceIdentity STS allows, one role still holds 23 revocations", async () => {
    const principalId = `${"x".repeat(52)}@example.com`;
    expect(sourceIdentityFor(principalId)).toHaveLength(64);
    for (let i = 0; i < 100; i++) {
      const id = `6f1c0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const result = await provider.revoke({ grant: grant({ id, principalId }), target }).catch((e) => e);
      if (result instanceof UpstreamError) {
        expect(result.upstreamCode).toMatch(/LimitExceeded/);
        expect(i).toBe(23);
        return;
      }
    }
    throw new Error("expected IAM to refuse once the 10,240-character budget was used");
  });
});
