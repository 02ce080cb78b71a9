import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";

/**
 * The product builds its clients without `endpoint` and relies on the standard AWS_ENDPOINT_URL_*
 * variables. This file changes process.env, which is safe because vitest runs each test file in its
 * own worker and the variables are restored afterwards.
 */
describe("AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_IAM", () => {
  let sandbox: AwsSandbox;
  const saved: Record<string, string | undefined> = {};
  const variables = [
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  ];

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: "arn:aws:iam::123456789012:role/ProdReadOnly" }] });
    for (const name of variables) saved[name] = process.env[name];
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    process.env.AWS_ENDPOINT_URL_STS = sandbox.url;
    process.env.AWS_ENDPOINT_URL_IAM = sandbox.url;
  });
  afterAll(async () => {
    for (const name of variables) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await sandbox.close();
  });

  it("clients created without an endpoint reach the sandbox", async () => {
    const sts = new STSClient({ region: "eu-central-1", credentials: SANDBOX_ACCESS_KEY, maxAttempts: 1 });
    const iam = new IAMClient({ region: "us-east-1", credentials: SANDBOX_ACCESS_KEY, maxAttempts: 1 });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe("arn:aws:iam::123456789012:user/leasehold-sandbox");
    const role = await iam.send(new GetRoleCommand({ RoleName: "ProdReadOnly" }));
    expect(role.Role?.MaxSessionDuration).toBe(3600);
    expect(sandbox.calls.map((call) => `${call.service} ${call.action} ${call.status}`)).toEqual([
      "sts GetCallerIdentity 200",
      "iam GetRole 200",
    ]);
  });
});
