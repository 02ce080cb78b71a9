import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";

// A client per test file: a shared helper module would be built into dist with this devDependency.
const secretsClient = (sandbox: AwsSandbox, maxAttempts = 3) =>
  new SecretsManagerClient({
    region: "us-east-1",
    endpoint: sandbox.url,
    credentials: SANDBOX_ACCESS_KEY,
    maxAttempts,
  });

/** The error a call must fail with, as the SDK reports it. */
async function refusal(
  call: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error("expected the call to fail, but it succeeded");
  const { $metadata } = outcome as Error & { $metadata?: { httpStatusCode?: number } };
  return { name: outcome.name, status: $metadata?.httpStatusCode, message: outcome.message };
}

const TOKEN_1 = "11111111-1111-4111-8111-111111111111";
const TOKEN_2 = "22222222-2222-4222-8222-222222222222";
const TOKEN_3 = "33333333-3333-4333-8333-333333333333";

describe("Secrets Manager: the four-step rotation with the real SDK", () => {
  let sandbox: AwsSandbox;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [] });
    client = secretsClient(sandbox);
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  const current = async (stage = "AWSCURRENT") =>
    client.send(new GetSecretValueCommand({ SecretId: "db/app", VersionStage: stage }));

  it("rotates: pending version, idempotent retries, AWSCURRENT moved, old value AWSPREVIOUS", async () => {
    const created = await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "password-1", ClientRequestToken: TOKEN_1 }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:db\/app-[A-Za-z0-9]{6}$/,
    );
    expect(created).toMatchObject({ Name: "db/app", VersionId: TOKEN_1 });

    // 1. createSecret: no AWSPENDING version for this token yet, so store the new secret as pending.
    expect(
      await refusal(
        client.send(
          new GetSecretValueCommand({ SecretId: "db/app", VersionId: TOKEN_2, VersionStage: "AWSPENDING" }),
        ),
      ),
    ).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
    const pending = await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        ClientRequestToken: TOKEN_2,
        SecretString: "password-2",
        VersionStages: ["AWSPENDING"],
      }),
    );
    expect(pending).toMatchObject({ ARN: created.ARN, VersionId: TOKEN_2, VersionStages: ["AWSPENDING"] });

    // The step is retried: same token and value is a no-op, another value is refused.
    const repeated = await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        ClientRequestToken: TOKEN_2,
        SecretString: "password-2",
        VersionStages: ["AWSPENDING"],
      }),
    );
    expect(repeated).toMatchObject({ VersionId: TOKEN_2, VersionStages: ["AWSPENDING"] });
    expect(
      await refusal(
        client.send(
          new PutSecretValueCommand({
            SecretId: "db/app",
            ClientRequestToken: TOKEN_2,
            SecretString: "password-2-other",
            VersionStages: ["AWSPENDING"],
          }),
        ),
      ),
    ).toEqual({
      name: "ResourceExistsException",
      status: 400,
      message: "You can't modify an existing version, you can only create a new version.",
    });
    expect(sandbox.secret("db/app").versions).toHaveLength(2);

    // 2./3. setSecret and testSecret read the pending value; applications still get the old one.
    expect(await current("AWSPENDING")).toMatchObject({
      VersionId: TOKEN_2,
      SecretString: "password-2",
      VersionStages: ["AWSPENDING"],
    });
    expect(
      await client.send(
        new GetSecretValueCommand({ SecretId: "db/app", VersionId: TOKEN_2, VersionStage: "AWSPENDING" }),
      ),
    ).toMatchObject({ SecretString: "password-2" });
    expect(await current()).toMatchObject({ VersionId: TOKEN_1, SecretString: "password-1" });

    // 4. finishSecret: the label can only be moved by naming the version that has it.
    const wrongRemove = await refusal(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: "db/app",
          VersionStage: "AWSCURRENT",
          MoveToVersionId: TOKEN_2,
          RemoveFromVersionId: TOKEN_2,
        }),
      ),
    );
    expect(wrongRemove).toMatchObject({ name: "InvalidParameterException", status: 400 });
    expect(
      await refusal(
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: "db/app",
            VersionStage: "AWSCURRENT",
            MoveToVersionId: TOKEN_2,
          }),
        ),
      ),
    ).toEqual({
      name: "InvalidParameterException",
      status: 400,
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${TOKEN_1}, so you must explicitly reference that version in RemoveFromVersionId.`,
    });
    expect(await current()).toMatchObject({ VersionId: TOKEN_1 });

    const moved = await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "db/app",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: TOKEN_2,
        RemoveFromVersionId: TOKEN_1,
      }),
    );
    expect(moved).toMatchObject({ ARN: created.ARN, Name: "db/app" });
    expect(await current()).toMatchObject({ VersionId: TOKEN_2, SecretString: "password-2" });
    expect(await current("AWSPREVIOUS")).toMatchObject({ VersionId: TOKEN_1, SecretString: "password-1" });
    // AWSPENDING stays on the new version until it is removed.
    expect(await current("AWSPENDING")).toMatchObject({ VersionId: TOKEN_2 });
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "db/app",
        VersionStage: "AWSPENDING",
        RemoveFromVersionId: TOKEN_2,
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: "db/app" }));
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_1]: ["AWSPREVIOUS"], [TOKEN_2]: ["AWSCURRENT"] });
    expect(
      sandbox.secret("db/app").versions.map(({ versionId, stages, secretString }) => ({
        versionId,
        stages,
        secretString,
      })),
    ).toEqual([
      { versionId: TOKEN_1, stages: ["AWSPREVIOUS"], secretString: "password-1" },
      { versionId: TOKEN_2, stages: ["AWSCURRENT"], secretString: "password-2" },
    ]);
    expect(
      sandbox.calls.map(
        (call) => `${call.action} ${call.status}${call.errorCode ? ` ${call.errorCode}` : ""}`,
      ),
    ).toContain("UpdateSecretVersionStage 400 InvalidParameterException");
  });

  it("a failed rotation leaves AWSCURRENT alone; a second one deprecates the oldest version", async () => {
    await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "password-1", ClientRequestToken: TOKEN_1 }),
    );
    // A rotation that stops after createSecret: the pending value never reaches applications.
    await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        ClientRequestToken: TOKEN_2,
        SecretString: "abandoned",
        VersionStages: ["AWSPENDING"],
      }),
    );
    expect(await current()).toMatchObject({ VersionId: TOKEN_1, SecretString: "password-1" });

    // The next rotation takes AWSPENDING over to its own version.
    await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        ClientRequestToken: TOKEN_3,
        SecretString: "password-3",
        VersionStages: ["AWSPENDING"],
      }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "db/app",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: TOKEN_3,
        RemoveFromVersionId: TOKEN_1,
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: "db/app" }));
    expect(described.VersionIdsToStages).toEqual({
      [TOKEN_1]: ["AWSPREVIOUS"],
      [TOKEN_3]: ["AWSPENDING", "AWSCURRENT"],
    });

    // The abandoned version has no label: deprecated, listed only on request, still readable by id.
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: "db/app" }));
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual([TOKEN_3, TOKEN_1]);
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: "db/app", IncludeDeprecated: true }),
    );
    expect(all.Versions?.map((version) => [version.VersionId, version.VersionStages])).toEqual([
      [TOKEN_3, ["AWSPENDING", "AWSCURRENT"]],
      [TOKEN_2, undefined],
      [TOKEN_1, ["AWSPREVIOUS"]],
    ]);
    expect(
      await client.send(new GetSecretValueCommand({ SecretId: "db/app", VersionId: TOKEN_2 })),
    ).toMatchObject({ SecretString: "abandoned" });
  });

  it("PutSecretValue without stages moves AWSCURRENT, and AWSPREVIOUS follows; a roll-back swaps them", async () => {
    await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "v1", ClientRequestToken: TOKEN_1 }),
    );
    await client.send(
      new PutSecretValueCommand({ SecretId: "db/app", SecretString: "v2", ClientRequestToken: TOKEN_2 }),
    );
    await client.send(
      new PutSecretValueCommand({ SecretId: "db/app", SecretString: "v3", ClientRequestToken: TOKEN_3 }),
    );
    const stages = async () =>
      (await client.send(new DescribeSecretCommand({ SecretId: "db/app" }))).VersionIdsToStages;
    expect(await stages()).toEqual({ [TOKEN_2]: ["AWSPREVIOUS"], [TOKEN_3]: ["AWSCURRENT"] });

    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "db/app",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: TOKEN_2,
        RemoveFromVersionId: TOKEN_3,
      }),
    );
    expect(await stages()).toEqual({ [TOKEN_2]: ["AWSCURRENT"], [TOKEN_3]: ["AWSPREVIOUS"] });
    expect(await current()).toMatchObject({ SecretString: "v2" });
  });

  it("a custom label is on one version at a time; moving one needs RemoveFromVersionId too", async () => {
    await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "v1", ClientRequestToken: TOKEN_1 }),
    );
    await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        SecretString: "v2",
        ClientRequestToken: TOKEN_2,
        VersionStages: ["blue"],
      }),
    );
    await client.send(
      new PutSecretValueCommand({
        SecretId: "db/app",
        SecretString: "v3",
        ClientRequestToken: TOKEN_3,
        VersionStages: ["blue", "green"],
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: "db/app" }));
    // v2 lost its only label: deprecated, so not in the map.
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_1]: ["AWSCURRENT"], [TOKEN_3]: ["blue", "green"] });
    expect(
      await refusal(
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: "db/app",
            VersionStage: "blue",
            MoveToVersionId: TOKEN_1,
          }),
        ),
      ),
    ).toMatchObject({ name: "InvalidParameterException", message: /can't be empty.*blue.*33333333/ });
  });

  it("GetSecretValue refuses a VersionStage the VersionId does not carry", async () => {
    await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "v1", ClientRequestToken: TOKEN_1 }),
    );
    expect(
      await refusal(
        client.send(
          new GetSecretValueCommand({ SecretId: "db/app", VersionId: TOKEN_1, VersionStage: "AWSPENDING" }),
        ),
      ),
    ).toEqual({
      name: "InvalidRequestException",
      status: 400,
      message: "You provided a VersionStage that is not associated to the provided VersionId.",
    });
  });

  it("DescribeSecret reports the secret's dates and description, and no rotation", async () => {
    await client.send(
      new CreateSecretCommand({ Name: "db/app", SecretString: "v1", Description: "app database" }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: "db/app" }));
    expect(described).toMatchObject({ Name: "db/app", Description: "app database" });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(described.RotationEnabled).toBeUndefined();
    expect(Math.abs((described.CreatedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });
});
