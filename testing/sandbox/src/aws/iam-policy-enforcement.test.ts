import { PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand, type Credentials, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import {
  expectAwsError,
  iamClient,
  manualClock,
  stsClient,
  type TestCredentials,
} from "./test-aws-clients.js";

const ROLE = "arn:aws:iam::123456789012:role/ProdReadOnly";
const SECRET = "orders/db-password";

const credentialsOf = (credentials: Credentials | undefined): TestCredentials => ({
  accessKeyId: credentials?.AccessKeyId ?? "",
  secretAccessKey: credentials?.SecretAccessKey ?? "",
  sessionToken: credentials?.SessionToken ?? "",
});

const deny = (condition: Record<string, Record<string, string | string[]>>) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: condition }],
  });

describe("IAM evaluates the role's inline policies on calls made with session credentials", () => {
  const clock = manualClock();
  let sandbox: AwsSandbox;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE }],
      secrets: [{ name: SECRET, secretString: "not-a-real-password" }],
      clock: clock.now,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  /** A grant-like session: session name, SourceIdentity and Leasehold's tags, all transitive. */
  async function grantSession(grant: string, person: string, from?: TestCredentials) {
    const tags = [
      { Key: "lh-grant", Value: grant },
      { Key: "lh-requester", Value: person },
    ];
    const response = await stsClient(sandbox, from ? { credentials: from } : {}).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: from ? `chained-${grant}` : `lh-${grant}-a1`,
        DurationSeconds: 3600,
        ...(from
          ? {}
          : { SourceIdentity: person, Tags: tags, TransitiveTagKeys: ["lh-grant", "lh-requester"] }),
      }),
    );
    return credentialsOf(response.Credentials);
  }

  const readSecret = (credentials: TestCredentials) =>
    new SecretsManagerClient({
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials,
      maxAttempts: 1,
    }).send(new GetSecretValueCommand({ SecretId: SECRET }));

  const chainFrom = (credentials: TestCredentials) =>
    stsClient(sandbox, { credentials, maxAttempts: 1 }).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "probe", DurationSeconds: 900 }),
    );

  const putPolicy = (name: string, document: string) =>
    iamClient(sandbox).send(
      new PutRolePolicyCommand({ RoleName: "ProdReadOnly", PolicyName: name, PolicyDocument: document }),
    );

  /** Secrets Manager (JSON 1.1) answers an explicit deny with AccessDeniedException, HTTP 400. */
  const refusedToRead = async (credentials: TestCredentials) => {
    const error = (await readSecret(credentials).then(
      () => new Error("the read succeeded"),
      (e: unknown) => e,
    )) as Error & { $metadata?: { httpStatusCode?: number } };
    expect({ name: error.name, status: error.$metadata?.httpStatusCode }).toEqual({
      name: "AccessDeniedException",
      status: 400,
    });
    expect(error.message).toMatch(
      /^User: arn:aws:sts::123456789012:assumed-role\/ProdReadOnly\/.+ is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:orders\/db-password with an explicit deny in an identity-based policy$/,
    );
  };

  it("a Deny on aws:userid refuses that session's data-plane calls and role chaining, and no other session's", async () => {
    const revoked = await grantSession("g1", "alice");
    const other = await grantSession("g2", "alice");
    await expect(readSecret(revoked)).resolves.toMatchObject({ SecretString: "not-a-real-password" });

    await putPolicy("leasehold-revoke-g1", deny({ StringLike: { "aws:userid": ["*:lh-g1-a*"] } }));

    await refusedToRead(revoked);
    await expectAwsError(chainFrom(revoked), {
      code: "AccessDenied",
      status: 403,
      message:
        "User: arn:aws:sts::123456789012:assumed-role/ProdReadOnly/lh-g1-a1 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ProdReadOnly with an explicit deny in an identity-based policy",
    });
    // IAM never denies GetCallerIdentity.
    const identity = await stsClient(sandbox, { credentials: revoked }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(identity.Arn).toContain("/lh-g1-a1");
    // The role's other session, and the long-term key, are unaffected.
    await expect(readSecret(other)).resolves.toMatchObject({ SecretString: "not-a-real-password" });
    await expect(chainFrom(other)).resolves.toBeDefined();
    expect(sandbox.calls.filter((call) => call.status !== 200).map((call) => call.errorCode)).toEqual([
      "AccessDeniedException",
      "AccessDenied",
    ]);
  });

  it("a Deny on aws:PrincipalTag/lh-grant also refuses a session chained from the grant's session", async () => {
    const granted = await grantSession("g1", "alice");
    const chained = await grantSession("g1", "alice", granted);
    expect(sandbox.issued.at(-1)).toMatchObject({
      roleSessionName: "chained-g1",
      sourceIdentity: "alice",
      tags: { "lh-grant": "g1", "lh-requester": "alice" },
    });
    const other = await grantSession("g2", "bob");

    // Condition-key names, the tag key included, are case-insensitive.
    await putPolicy("leasehold-revoke-g1", deny({ StringEquals: { "aws:PrincipalTag/LH-Grant": "g1" } }));

    await refusedToRead(granted);
    await refusedToRead(chained);
    await expectAwsError(chainFrom(chained), { code: "AccessDenied", status: 403 });
    await expect(readSecret(other)).resolves.toBeDefined();
  });

  it("a Deny on aws:SourceIdentity follows the identity along a role chain", async () => {
    const alice = await grantSession("g1", "alice");
    const chained = await grantSession("g1", "alice", alice);
    const bob = await grantSession("g2", "bob");
    await putPolicy("deny-alice", deny({ StringEquals: { "aws:SourceIdentity": "alice" } }));
    await refusedToRead(alice);
    await refusedToRead(chained);
    await expect(readSecret(bob)).resolves.toBeDefined();
  });

  it("conditions in one statement are ANDed; a key the session lacks makes the Deny not apply (Null sees it)", async () => {
    const tagged = await grantSession("g1", "alice");
    const untagged = credentialsOf(
      (
        await stsClient(sandbox).send(
          new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "plain", SourceIdentity: "alice" }),
        )
      ).Credentials,
    );
    await putPolicy(
      "deny-untagged-alice",
      deny({
        StringEquals: { "aws:SourceIdentity": "alice" },
        Null: { "aws:PrincipalTag/lh-grant": "true" },
      }),
    );
    await expect(readSecret(tagged)).resolves.toBeDefined();
    await refusedToRead(untagged);

    await putPolicy("deny-untagged-alice", deny({ StringEquals: { "aws:PrincipalTag/team": "ops" } }));
    await expect(readSecret(untagged)).resolves.toBeDefined();
  });

  it("a DateLessThan on aws:TokenIssueTime refuses sessions issued before the cut-off only (AWSRevokeOlderSessions)", async () => {
    const older = await grantSession("g1", "alice");
    clock.advanceSeconds(60);
    const cutOff = clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    clock.advanceSeconds(60);
    const newer = await grantSession("g2", "alice");
    await putPolicy("AWSRevokeOlderSessions", deny({ DateLessThan: { "aws:TokenIssueTime": cutOff } }));
    await refusedToRead(older);
    await expect(readSecret(newer)).resolves.toBeDefined();
    await putPolicy("AWSRevokeOlderSessions", deny({ DateGreaterThan: { "aws:TokenIssueTime": cutOff } }));
    await expect(readSecret(older)).resolves.toBeDefined();
    await refusedToRead(newer);
  });

  it("a condition operator the stand-in does not model fails the call loudly instead of passing it", async () => {
    const session = await grantSession("g1", "alice");
    await putPolicy(
      "unmodelled",
      deny({ "ForAnyValue:StringEquals": { "aws:PrincipalTag/lh-grant": "g1" } }),
    );
    await expectAwsError(chainFrom(session), {
      code: "InternalFailure",
      status: 500,
      message: "The stand-in does not model the condition operator ForAnyValue:StringEquals.",
    });
  });

  it("a Deny in the session policy applies to the session too", async () => {
    const response = await stsClient(sandbox).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: "narrowed",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          // The Allow keeps the refusal down to the Deny, not to the session policy's implicit deny.
          Statement: [
            { Effect: "Allow", Action: "*", Resource: "*" },
            { Effect: "Deny", Action: "secretsmanager:Get*", Resource: "*" },
          ],
        }),
      }),
    );
    const error = (await readSecret(credentialsOf(response.Credentials)).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/with an explicit deny/);
  });

  it("a session policy narrows the session: what none of its Allow statements covers is refused", async () => {
    const response = await stsClient(sandbox).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: "scoped",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }],
        }),
      }),
    );
    const scoped = credentialsOf(response.Credentials);
    expect((await readSecret(scoped)).SecretString).toBe("not-a-real-password");
    await expectAwsError(chainFrom(scoped), {
      code: "AccessDenied",
      status: 403,
      message: /sts:AssumeRole on resource: .* because no session policy allows the sts:AssumeRole action/,
    });
  });

  it("an IAM call made with a denied session is refused too", async () => {
    const revoked = await grantSession("g1", "alice");
    await putPolicy("leasehold-revoke-g1", deny({ StringLike: { "aws:userid": "*:lh-g1-a1" } }));
    await expectAwsError(
      iamClient(sandbox, { credentials: revoked, maxAttempts: 1 }).send(
        new PutRolePolicyCommand({
          RoleName: "ProdReadOnly",
          PolicyName: "leasehold-revoke-g1",
          PolicyDocument: "{}",
        }),
      ),
      {
        code: "AccessDenied",
        status: 403,
        message: /iam:PutRolePolicy on resource: role ProdReadOnly with an explicit deny/,
      },
    );
  });
});
