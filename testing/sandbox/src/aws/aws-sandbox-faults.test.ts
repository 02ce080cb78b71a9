import { GetRoleCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, iamClient, stsClient } from "./test-aws-clients.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/ProdReadOnly";

const outcomes = (sandbox: AwsSandbox) =>
  sandbox.calls.map(
    (call) => `${call.service} ${call.action} ${call.status}${call.errorCode ? ` ${call.errorCode}` : ""}`,
  );

describe("injected faults", () => {
  let sandbox: AwsSandbox;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("down: connections are refused; back: the same port, the same state", async () => {
    const before = await stsClient(sandbox, { maxAttempts: 1 }).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "before" }),
    );
    await sandbox.goDown();
    try {
      await expect(
        stsClient(sandbox, { maxAttempts: 1 }).send(
          new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "down" }),
        ),
      ).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await sandbox.comeBack();
    }
    await stsClient(sandbox, { maxAttempts: 1 }).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "after" }),
    );
    expect(sandbox.issued.map((s) => s.roleSessionName)).toEqual(["before", "after"]);
    expect(before.Credentials?.AccessKeyId).toBe(sandbox.issued[0]?.accessKeyId);
  });

  it("the SDK retries Throttling, and the retries show in calls", async () => {
    sandbox.injectFault({ service: "sts", action: "AssumeRole", status: 400, code: "Throttling", times: 2 });
    const response = await stsClient(sandbox, { maxAttempts: 3 }).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "retried" }),
    );
    expect(response.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(outcomes(sandbox)).toEqual([
      "sts AssumeRole 400 Throttling",
      "sts AssumeRole 400 Throttling",
      "sts AssumeRole 200",
    ]);
    expect(sandbox.issued).toHaveLength(1);
  });

  it("the SDK retries a 500 InternalFailure", async () => {
    sandbox.injectFault({ action: "AssumeRole", status: 500, code: "InternalFailure", times: 1 });
    await stsClient(sandbox).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "retried" }));
    expect(outcomes(sandbox)).toEqual(["sts AssumeRole 500 InternalFailure", "sts AssumeRole 200"]);
  });

  it("a fault that outlasts the SDK's attempts surfaces as that error", async () => {
    sandbox.injectFault({ action: "AssumeRole", status: 503, code: "ServiceUnavailable", times: 5 });
    const error = await expectAwsError(
      stsClient(sandbox, { maxAttempts: 2 }).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "x" }),
      ),
      { code: "ServiceUnavailable", status: 503 },
    );
    expect(error).toMatchObject({ $fault: "server" });
    expect(sandbox.calls).toHaveLength(2);
    expect(sandbox.issued).toEqual([]);
    // Three of the five injected failures are still pending.
    sandbox.clearRecords();
    await expectAwsError(
      stsClient(sandbox, { maxAttempts: 1 }).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "x" }),
      ),
      { code: "ServiceUnavailable", status: 503 },
    );
  });

  it("a fault only hits its own service and action", async () => {
    sandbox.injectFault({ service: "iam", action: "GetRole", status: 400, code: "Throttling", times: 1 });
    sandbox.injectFault({
      service: "sts",
      action: "AssumeRole",
      status: 500,
      code: "InternalFailure",
      times: 1,
    });
    await stsClient(sandbox).send(new GetCallerIdentityCommand({}));
    await iamClient(sandbox, { maxAttempts: 1 })
      .send(new GetRoleCommand({ RoleName: "ProdReadOnly" }))
      .catch(() => undefined);
    expect(outcomes(sandbox)).toEqual(["sts GetCallerIdentity 200", "iam GetRole 400 Throttling"]);
  });

  it("refuses a fault that would never fire", () => {
    expect(() =>
      sandbox.injectFault({ action: "AssumeRole", status: 400, code: "Throttling", times: 0 }),
    ).toThrow();
  });
});
