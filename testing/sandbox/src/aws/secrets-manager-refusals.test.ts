import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { manualClock, stsClient, type TestCredentials } from "./test-aws-clients.js";

// A client per test file: a shared helper module would be built into dist with this devDependency.
const secretsClient = (
  sandbox: AwsSandbox,
  options: {
    credentials?: TestCredentials;
    maxAttempts?: number;
    region?: string;
    clockOffsetSeconds?: number;
  } = {},
) =>
  new SecretsManagerClient({
    region: options.region ?? "us-east-1",
    endpoint: sandbox.url,
    credentials: options.credentials ?? SANDBOX_ACCESS_KEY,
    maxAttempts: options.maxAttempts ?? 1,
    systemClockOffset: (options.clockOffsetSeconds ?? 0) * 1000,
  });

type Refusal = { name: string; status: number | undefined; message: string; fault: string | undefined };

/** The error a call must fail with, as the SDK reports it. */
async function refusal(call: Promise<unknown>): Promise<Refusal> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error("expected the call to fail, but it succeeded");
  const details = outcome as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  return {
    name: outcome.name,
    status: details.$metadata?.httpStatusCode,
    message: outcome.message,
    fault: details.$fault,
  };
}

const TOKEN_1 = "11111111-1111-4111-8111-111111111111";
const TOKEN_2 = "22222222-2222-4222-8222-222222222222";
const OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/Rotator";

const outcomes = (sandbox: AwsSandbox) =>
  sandbox.calls.map(
    (call) => `${call.service} ${call.action} ${call.status}${call.errorCode ? ` ${call.errorCode}` : ""}`,
  );

describe("Secrets Manager on the AWS stand-in: protocol and refusals", () => {
  const clock = manualClock();
  let sandbox: AwsSandbox;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: OTHER_ACCOUNT_ROLE }],
      secrets: [{ name: "prod/db", secretString: "configured-secret", description: "from start" }],
      clock: clock.now,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it.each([
    ["ResourceNotFoundException", 400, "client"],
    ["InvalidRequestException", 400, "client"],
    ["InvalidParameterException", 400, "client"],
    ["ResourceExistsException", 400, "client"],
    ["LimitExceededException", 400, "client"],
    ["DecryptionFailure", 400, "client"],
    ["InternalServiceError", 500, "server"],
  ])("the SDK names a JSON %s by its type", async (code, status, fault) => {
    sandbox.injectFault({ service: "secretsmanager", action: "GetSecretValue", status, code, times: 1 });
    expect(
      await refusal(secretsClient(sandbox).send(new GetSecretValueCommand({ SecretId: "prod/db" }))),
    ).toEqual({ name: code, status, message: `Injected ${code}`, fault });
    expect(outcomes(sandbox)).toEqual([`secretsmanager GetSecretValue ${status} ${code}`]);
  });

  it("answers in JSON 1.1 on the wire, even before the signature is read", async () => {
    const response = await fetch(sandbox.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body: JSON.stringify({ SecretId: "prod/db" }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Request is missing Authentication Token",
    });
    expect(sandbox.calls).toEqual([
      {
        service: "unknown",
        action: "GetSecretValue",
        status: 400,
        errorCode: "MissingAuthenticationTokenException",
      },
    ]);
  });

  it("an injected 500 InternalServiceError is retried by the SDK, and the retry stores one version", async () => {
    sandbox.injectFault({
      service: "secretsmanager",
      action: "PutSecretValue",
      status: 500,
      code: "InternalServiceError",
      times: 1,
    });
    const put = await secretsClient(sandbox, { maxAttempts: 3 }).send(
      new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "rotated" }),
    );
    expect(put.$metadata.attempts).toBe(2);
    expect(outcomes(sandbox)).toEqual([
      "secretsmanager PutSecretValue 500 InternalServiceError",
      "secretsmanager PutSecretValue 200",
    ]);
    expect(sandbox.secret("prod/db").versions.map((version) => version.stages)).toEqual([
      ["AWSPREVIOUS"],
      ["AWSCURRENT"],
    ]);
  });

  it("an unknown secret is ResourceNotFoundException for every operation; a bad name is ValidationException", async () => {
    const client = secretsClient(sandbox);
    const notFound = {
      name: "ResourceNotFoundException",
      status: 400,
      message: "Secrets Manager can't find the specified secret.",
      fault: "client",
    };
    expect(await refusal(client.send(new GetSecretValueCommand({ SecretId: "prod/nope" })))).toEqual(
      notFound,
    );
    expect(await refusal(client.send(new DescribeSecretCommand({ SecretId: "prod/nope" })))).toEqual(
      notFound,
    );
    expect(await refusal(client.send(new ListSecretVersionIdsCommand({ SecretId: "prod/nope" })))).toEqual(
      notFound,
    );
    expect(
      await refusal(client.send(new PutSecretValueCommand({ SecretId: "prod/nope", SecretString: "x" }))),
    ).toEqual(notFound);
    expect(
      await refusal(
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: "prod/nope",
            VersionStage: "AWSCURRENT",
            MoveToVersionId: TOKEN_1,
          }),
        ),
      ),
    ).toEqual(notFound);
    expect(await refusal(client.send(new GetSecretValueCommand({ SecretId: "prod db!" })))).toMatchObject({
      name: "ValidationException",
      message:
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
    });
    expect(
      await refusal(
        client.send(new GetSecretValueCommand({ SecretId: "prod/db", VersionStage: "AWSPENDING" })),
      ),
    ).toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
    expect(await refusal(client.send(new DeleteSecretCommand({ SecretId: "prod/db" })))).toMatchObject({
      name: "UnknownOperationException",
      status: 400,
    });
  });

  it("refuses bad signatures as the JSON services do: InvalidSignatureException, UnrecognizedClientException", async () => {
    const wrongSecret = secretsClient(sandbox, {
      credentials: { accessKeyId: SANDBOX_ACCESS_KEY.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    expect(await refusal(wrongSecret.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).toMatchObject(
      {
        name: "InvalidSignatureException",
        status: 400,
        message: /^The request signature we calculated does not match/,
      },
    );
    const unknownKey = secretsClient(sandbox, {
      credentials: {
        accessKeyId: "AKIDSOMEONEELSE00000",
        secretAccessKey: SANDBOX_ACCESS_KEY.secretAccessKey,
      },
    });
    expect(await refusal(unknownKey.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).toEqual({
      name: "UnrecognizedClientException",
      status: 400,
      message: "The security token included in the request is invalid.",
      fault: "client",
    });
    const late = secretsClient(sandbox, { clockOffsetSeconds: -600 });
    expect(await refusal(late.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).toMatchObject({
      name: "InvalidSignatureException",
      message: /^Signature expired: /,
    });
    expect(sandbox.calls.every((call) => call.service === "secretsmanager" && call.status === 400)).toBe(
      true,
    );
    expect(sandbox.calls.map((call) => call.accessKeyId)).toContain("AKIDSOMEONEELSE00000");
  });

  it("issued sessions may call it: their secrets are the role's account's, and an expired session is refused", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({
        RoleArn: OTHER_ACCOUNT_ROLE,
        RoleSessionName: "rotator",
        DurationSeconds: 900,
      }),
    );
    const { AccessKeyId, SecretAccessKey, SessionToken } = assumed.Credentials ?? {};
    const credentials = {
      accessKeyId: AccessKeyId ?? "",
      secretAccessKey: SecretAccessKey ?? "",
      sessionToken: SessionToken ?? "",
    };
    const session = secretsClient(sandbox, { credentials });
    const created = await session.send(new CreateSecretCommand({ Name: "prod/db", SecretString: "theirs" }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:210987654321:secret:prod\/db-/);
    expect(await session.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).toMatchObject({
      SecretString: "theirs",
    });
    // The sandbox user's secret of the same name lives in another account.
    expect(() => sandbox.secret("prod/db")).toThrow(/several secrets named "prod\/db"/);
    const configured = (await secretsClient(sandbox).send(new DescribeSecretCommand({ SecretId: "prod/db" })))
      .ARN;
    expect(
      await refusal(session.send(new GetSecretValueCommand({ SecretId: configured ?? "" }))),
    ).toMatchObject({
      name: "InvalidRequestException",
      message: /different AWS account/,
    });

    clock.advanceSeconds(901);
    try {
      const expired = secretsClient(sandbox, { credentials, clockOffsetSeconds: 901 });
      expect(await refusal(expired.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).toMatchObject({
        name: "ExpiredTokenException",
        status: 400,
      });
    } finally {
      clock.advanceSeconds(-901);
    }
  });

  it("model constraints are one ValidationException listing them all, and never echo the secret", async () => {
    const secret = `s${"x".repeat(65_536)}`;
    const refused = await refusal(
      secretsClient(sandbox).send(
        new PutSecretValueCommand({
          SecretId: "prod/db",
          ClientRequestToken: "too-short",
          SecretString: secret,
          VersionStages: [],
        }),
      ),
    );
    expect(refused).toEqual({
      name: "ValidationException",
      status: 400,
      fault: "client",
      message:
        "3 validation errors detected: " +
        "Value 'too-short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32; " +
        "Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536; " +
        "Value '[]' at 'versionStages' failed to satisfy constraint: Member must have length greater than or equal to 1",
    });
    expect(
      await refusal(
        secretsClient(sandbox).send(new CreateSecretCommand({ Name: "n".repeat(513), SecretString: "x" })),
      ),
    ).toMatchObject({
      name: "ValidationException",
      message: /at 'name' failed to satisfy constraint: Member must have length less than or equal to 512$/,
    });
    expect(sandbox.secret("prod/db").versions).toHaveLength(1);
  });

  it("a raw request without ClientRequestToken is refused (the SDK always sends one)", async () => {
    const client = secretsClient(sandbox);
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string | Uint8Array; headers: Record<string, string> };
        const sent = typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body);
        const { ClientRequestToken: _dropped, ...rest } = JSON.parse(sent) as Record<string, unknown>;
        request.body = JSON.stringify(rest);
        request.headers["content-length"] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: "build", name: "dropClientRequestToken" },
    );
    expect(
      await refusal(client.send(new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "x" }))),
    ).toEqual({
      name: "InvalidRequestException",
      status: 400,
      fault: "client",
      message: "You must provide a ClientRequestToken value. We recommend a UUID-type value.",
    });
  });

  it("CreateSecret refuses an existing name, except a retry with the same token and value", async () => {
    const client = secretsClient(sandbox);
    const first = await client.send(
      new CreateSecretCommand({ Name: "app/api-key", SecretString: "k1", ClientRequestToken: TOKEN_1 }),
    );
    const retried = await client.send(
      new CreateSecretCommand({ Name: "app/api-key", SecretString: "k1", ClientRequestToken: TOKEN_1 }),
    );
    expect(retried).toMatchObject({ ARN: first.ARN, VersionId: TOKEN_1 });
    expect(
      await refusal(
        client.send(
          new CreateSecretCommand({ Name: "app/api-key", SecretString: "k1", ClientRequestToken: TOKEN_2 }),
        ),
      ),
    ).toEqual({
      name: "ResourceExistsException",
      status: 400,
      fault: "client",
      message: "The operation failed because the secret app/api-key already exists.",
    });
    // Without a value there is no version yet, and GetSecretValue says so.
    await client.send(new CreateSecretCommand({ Name: "app/empty" }));
    expect(await refusal(client.send(new GetSecretValueCommand({ SecretId: "app/empty" })))).toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    });
  });

  it("a secret carries at most 20 staging labels across its versions (LimitExceededException)", async () => {
    const labels = Array.from({ length: 20 }, (_, index) => `label-${index}`);
    expect(
      await refusal(
        secretsClient(sandbox).send(
          new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "x", VersionStages: labels }),
        ),
      ),
    ).toMatchObject({ name: "LimitExceededException", status: 400 });
    expect(sandbox.secret("prod/db").versions).toHaveLength(1);
    await secretsClient(sandbox).send(
      new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "x", VersionStages: labels.slice(1) }),
    );
  });

  it("keeps 100 versions: unlabelled ones are dropped only once 24 hours old, until then the quota refuses", async () => {
    const client = secretsClient(sandbox);
    const firstVersion = sandbox.secret("prod/db").versions[0]?.versionId ?? "";
    for (let index = 2; index <= 100; index += 1) {
      await client.send(new PutSecretValueCommand({ SecretId: "prod/db", SecretString: `v${index}` }));
    }
    expect(sandbox.secret("prod/db").versions).toHaveLength(100);
    expect(
      await refusal(client.send(new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "v101" }))),
    ).toMatchObject({ name: "LimitExceededException", status: 400 });
    expect(await client.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).toMatchObject({
      SecretString: "v100",
    });

    clock.advanceSeconds(24 * 3600);
    try {
      const dayLater = secretsClient(sandbox, { clockOffsetSeconds: 24 * 3600 });
      await dayLater.send(new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "v101" }));
      const versions = sandbox.secret("prod/db").versions;
      expect(versions).toHaveLength(100);
      expect(versions.map((version) => version.versionId)).not.toContain(firstVersion);
      expect(
        await refusal(
          dayLater.send(new GetSecretValueCommand({ SecretId: "prod/db", VersionId: firstVersion })),
        ),
      ).toMatchObject({ name: "ResourceNotFoundException" });
    } finally {
      clock.advanceSeconds(-24 * 3600);
    }
  });

  it("secrets are regional: the ARN names the signing region, and other regions do not see them", async () => {
    const eu = secretsClient(sandbox, { region: "eu-west-1" });
    const created = await eu.send(new CreateSecretCommand({ Name: "eu/db", SecretString: "bonjour" }));
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:eu\/db-[A-Za-z0-9]{6}$/,
    );
    expect(sandbox.calls.at(-1)).toMatchObject({ region: "eu-west-1" });
    expect(
      await refusal(secretsClient(sandbox).send(new GetSecretValueCommand({ SecretId: "eu/db" }))),
    ).toMatchObject({ name: "ResourceNotFoundException" });
    const arn = created.ARN ?? "";
    // A complete ARN, a partial one (without the random suffix), and a wrong suffix.
    expect(await eu.send(new GetSecretValueCommand({ SecretId: arn }))).toMatchObject({
      SecretString: "bonjour",
    });
    expect(await eu.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) }))).toMatchObject({
      SecretString: "bonjour",
    });
    expect(
      await refusal(eu.send(new GetSecretValueCommand({ SecretId: `${arn.slice(0, -6)}AAAAAA` }))),
    ).toMatchObject({
      name: "ResourceNotFoundException",
    });
    expect(sandbox.secret("eu/db")).toMatchObject({ arn, region: "eu-west-1" });
  });

  it("configured secrets exist from start and come back unchanged after reset", async () => {
    const before = sandbox.secret("prod/db");
    expect(before).toMatchObject({
      name: "prod/db",
      region: "us-east-1",
      description: "from start",
      versions: [{ stages: ["AWSCURRENT"], secretString: "configured-secret" }],
    });
    await secretsClient(sandbox).send(
      new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "changed" }),
    );
    sandbox.reset();
    expect(sandbox.secret("prod/db")).toEqual(before);
    expect(() => sandbox.secret("prod/none")).toThrow(/no secret named "prod\/none"/);
  });

  it.each([
    [{ name: "bad name", secretString: "x" }, /names are 1–512 characters/],
    [{ name: "ok", secretString: "" }, /1 character to 65,536 bytes/],
  ])("refuses to start with a secret CreateSecret would refuse: %o", async (secret, message) => {
    await expect(startAwsSandbox({ roles: [], secrets: [secret] })).rejects.toThrow(message);
  });

  it("allPayloadsText holds the secret whichever encoding it travelled in; refusals never echo it", async () => {
    const secret = 'pa"ss\\wörd/🔑';
    const client = secretsClient(sandbox);
    await client.send(
      new PutSecretValueCommand({ SecretId: "prod/db", SecretString: secret, ClientRequestToken: TOKEN_1 }),
    );
    await client.send(new GetSecretValueCommand({ SecretId: "prod/db" }));
    const refused = await refusal(
      client.send(
        new PutSecretValueCommand({
          SecretId: "prod/db",
          SecretString: "other",
          ClientRequestToken: TOKEN_1,
        }),
      ),
    );
    expect(refused.message).not.toContain("other");
    expect(refused.message).not.toContain(secret);
    const text = sandbox.allPayloadsText();
    // Sent once, answered once, and JSON escaped its quote and backslash on the wire.
    expect(text.split(secret).length - 1).toBe(2);
    expect(text).toContain(JSON.stringify(secret));
    // Query bodies are form-decoded and XML answers unescaped too.
    await stsClient(sandbox, { maxAttempts: 1 })
      .send(new AssumeRoleCommand({ RoleArn: OTHER_ACCOUNT_ROLE, RoleSessionName: "a&b<c>" }))
      .catch(() => undefined);
    expect(sandbox.allPayloadsText()).toContain("RoleSessionName=a%26b%3Cc%3E");
    expect(sandbox.allPayloadsText()).toContain("\na&b<c>\n");
    expect(sandbox.allPayloadsText()).toContain("Value 'a&b<c>' at 'roleSessionName'");
    sandbox.clearRecords();
    expect(sandbox.allPayloadsText()).toBe("");
  });
});
