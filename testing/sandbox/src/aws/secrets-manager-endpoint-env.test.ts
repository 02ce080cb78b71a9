import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";

/**
 * The product builds its clients without `endpoint`, so AWS_ENDPOINT_URL_SECRETS_MANAGER (the SDK's
 * name for service id "Secrets Manager") must reach the stand-in. This file changes process.env, which
 * is safe because vitest runs each test file in its own worker and the variables are restored afterwards.
 */
describe("AWS_ENDPOINT_URL_SECRETS_MANAGER", () => {
  let sandbox: AwsSandbox;
  const saved: Record<string, string | undefined> = {};
  const variables = [
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  ];

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [],
      secrets: [{ name: "prod/db", secretString: "from-env", region: "eu-central-1" }],
    });
    for (const name of variables) saved[name] = process.env[name];
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sandbox.url;
  });
  afterAll(async () => {
    for (const name of variables) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await sandbox.close();
  });

  it("a client created without an endpoint reaches the sandbox", async () => {
    const client = new SecretsManagerClient({
      region: "eu-central-1",
      credentials: SANDBOX_ACCESS_KEY,
      maxAttempts: 1,
    });
    const value = await client.send(new GetSecretValueCommand({ SecretId: "prod/db" }));
    expect(value.SecretString).toBe("from-env");
    expect(sandbox.calls).toEqual([
      {
        service: "secretsmanager",
        action: "GetSecretValue",
        status: 200,
        accessKeyId: SANDBOX_ACCESS_KEY.accessKeyId,
        region: "eu-central-1",
      },
    ]);
  });
});
