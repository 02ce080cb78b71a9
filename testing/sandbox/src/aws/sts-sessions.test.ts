import { AssumeRoleCommand, type Credentials, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, manualClock, stsClient, type TestCredentials } from "./test-aws-clients.js";

const ROLE = "arn:aws:iam::123456789012:role/ProdReadOnly";
const OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/team/Deployer";

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::reports/*" }],
});

function sessionCredentials(credentials: Credentials | undefined): TestCredentials {
  expect(credentials).toBeDefined();
  return {
    accessKeyId: credentials?.AccessKeyId ?? "",
    secretAccessKey: credentials?.SecretAccessKey ?? "",
    sessionToken: credentials?.SessionToken ?? "",
  };
}

describe("issued STS sessions", () => {
  const clock = manualClock();
  let sandbox: AwsSandbox;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE }, { arn: OTHER_ACCOUNT_ROLE, maxSessionDurationSeconds: 14_400 }],
      clock: clock.now,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("AssumeRole returns every field of the real response, and the sandbox records the session", async () => {
    const now = clock.now();
    const response = await stsClient(sandbox).send(
      new AssumeRoleCommand({
        RoleArn: OTHER_ACCOUNT_ROLE,
        RoleSessionName: "lh-6f1c",
        DurationSeconds: 7200,
        SourceIdentity: "alice@example.com",
        Policy: POLICY,
        ExternalId: "ticket-42",
        Tags: [
          { Key: "lh-request", Value: "6f1c" },
          { Key: "lh-requester", Value: "alice@example.com" },
        ],
        TransitiveTagKeys: ["lh-request"],
      }),
    );

    const credentials = response.Credentials;
    expect(credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(credentials?.SecretAccessKey).toHaveLength(40);
    expect(credentials?.SessionToken?.length).toBeGreaterThan(100);
    const expiresIn = ((credentials?.Expiration?.getTime() ?? 0) - now.getTime()) / 1000;
    expect(expiresIn).toBeGreaterThan(7199);
    expect(expiresIn).toBeLessThanOrEqual(7200);
    expect(response.AssumedRoleUser).toEqual({
      Arn: "arn:aws:sts::210987654321:assumed-role/Deployer/lh-6f1c",
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:lh-6f1c$/),
    });
    expect(response.SourceIdentity).toBe("alice@example.com");
    expect(response.PackedPolicySize).toBeGreaterThan(0);
    expect(response.PackedPolicySize).toBeLessThan(100);

    expect(sandbox.issued).toEqual([
      {
        roleArn: OTHER_ACCOUNT_ROLE,
        roleSessionName: "lh-6f1c",
        sourceIdentity: "alice@example.com",
        durationSeconds: 7200,
        tags: { "lh-request": "6f1c", "lh-requester": "alice@example.com" },
        transitiveTagKeys: ["lh-request"],
        policy: POLICY,
        policyArns: [],
        externalId: "ticket-42",
        accessKeyId: credentials?.AccessKeyId,
        assumedRoleId: response.AssumedRoleUser?.AssumedRoleId,
        assumedRoleArn: response.AssumedRoleUser?.Arn,
        issuedAt: now,
        expiration: credentials?.Expiration,
        callerAccessKeyId: SANDBOX_ACCESS_KEY.accessKeyId,
      },
    ]);
    const record = JSON.stringify(sandbox.issued);
    expect(record).not.toContain(credentials?.SecretAccessKey);
    expect(record).not.toContain(credentials?.SessionToken);
  });

  it("the role id is derived from the ARN, so it is the same in every sandbox", async () => {
    const first = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "one" }),
    );
    const other = await startAwsSandbox({ roles: [{ arn: ROLE }] });
    try {
      const second = await stsClient(other).send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "two" }),
      );
      const roleId = (assumed: string | undefined) => assumed?.split(":")[0];
      expect(roleId(first.AssumedRoleUser?.AssumedRoleId)).toBe(
        roleId(second.AssumedRoleUser?.AssumedRoleId),
      );
    } finally {
      await other.close();
    }
  });

  it("defaults to a one-hour session without SourceIdentity or PackedPolicySize", async () => {
    const response = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "plain" }),
    );
    expect(response.SourceIdentity).toBeUndefined();
    expect(response.PackedPolicySize).toBeUndefined();
    expect(sandbox.issued[0]?.durationSeconds).toBe(3600);
  });

  it("session credentials work for GetCallerIdentity until they expire, then get ExpiredToken", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "lh-exp", DurationSeconds: 900 }),
    );
    const credentials = sessionCredentials(assumed.Credentials);
    // Each client signs in the sandbox's (moved) time, as a client of AWS with a correct clock would.
    const at = (clockOffsetSeconds: number) =>
      stsClient(sandbox, { credentials, maxAttempts: 1, clockOffsetSeconds });
    await expect(at(0).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      UserId: assumed.AssumedRoleUser?.AssumedRoleId,
      Account: "123456789012",
      Arn: "arn:aws:sts::123456789012:assumed-role/ProdReadOnly/lh-exp",
    });

    clock.advanceSeconds(898);
    try {
      await expect(at(898).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
      clock.advanceSeconds(2);
      // Real STS answers 403 ExpiredToken here; ExpiredTokenException is its code for expired web identity tokens.
      await expectAwsError(at(900).send(new GetCallerIdentityCommand({})), {
        code: "ExpiredToken",
        status: 403,
        message: "The security token included in the request is expired",
      });
    } finally {
      clock.advanceSeconds(-900);
    }
  });

  it("session credentials with a different session token are InvalidClientTokenId", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "lh-tok" }),
    );
    const credentials = { ...sessionCredentials(assumed.Credentials), sessionToken: "forged" };
    await expectAwsError(stsClient(sandbox, { credentials }).send(new GetCallerIdentityCommand({})), {
      code: "InvalidClientTokenId",
      status: 403,
    });
  });

  describe("role chaining", () => {
    async function chainedClient(input: { SourceIdentity?: string; transitive?: boolean } = {}) {
      const first = await stsClient(sandbox).send(
        new AssumeRoleCommand({
          RoleArn: OTHER_ACCOUNT_ROLE,
          RoleSessionName: "first",
          DurationSeconds: 7200,
          ...(input.SourceIdentity === undefined ? {} : { SourceIdentity: input.SourceIdentity }),
          ...(input.transitive === true
            ? {
                Tags: [
                  { Key: "lh-request", Value: "r1" },
                  { Key: "note", Value: "not passed on" },
                ],
                TransitiveTagKeys: ["lh-request"],
              }
            : {}),
        }),
      );
      return {
        client: stsClient(sandbox, { credentials: sessionCredentials(first.Credentials), maxAttempts: 1 }),
        accessKeyId: first.Credentials?.AccessKeyId,
      };
    }

    it("caps a chained session at one hour", async () => {
      const { client } = await chainedClient();
      await expectAwsError(
        client.send(
          new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "second", DurationSeconds: 3601 }),
        ),
        {
          code: "ValidationError",
          status: 400,
          message:
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        },
      );
      await expect(
        client.send(
          new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "second", DurationSeconds: 3600 }),
        ),
      ).resolves.toBeDefined();
    });

    it("keeps the source identity and refuses to change it", async () => {
      const { client, accessKeyId } = await chainedClient({ SourceIdentity: "alice" });
      await expectAwsError(
        client.send(
          new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "second", SourceIdentity: "mallory" }),
        ),
        { code: "AccessDenied", status: 403 },
      );
      const kept = await client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "second" }));
      expect(kept.SourceIdentity).toBe("alice");
      expect(sandbox.issued.at(-1)).toMatchObject({
        sourceIdentity: "alice",
        callerAccessKeyId: accessKeyId,
      });
    });

    it("passes transitive tags on, and only those", async () => {
      const { client } = await chainedClient({ transitive: true });
      await client.send(
        new AssumeRoleCommand({
          RoleArn: ROLE,
          RoleSessionName: "second",
          Tags: [{ Key: "step", Value: "2" }],
        }),
      );
      expect(sandbox.issued.at(-1)).toMatchObject({
        tags: { "lh-request": "r1", step: "2" },
        transitiveTagKeys: ["lh-request"],
      });
      await expectAwsError(
        client.send(
          new AssumeRoleCommand({
            RoleArn: ROLE,
            RoleSessionName: "third",
            Tags: [{ Key: "LH-Request", Value: "r2" }],
          }),
        ),
        { code: "ValidationError", status: 400, message: /transitive tag of the calling session/ },
      );
    });
  });
});
