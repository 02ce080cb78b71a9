import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, stsClient } from "./test-aws-clients.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/ProdReadOnly";

describe("AWS sandbox configuration", () => {
  it.each([
    [{ arn: "arn:aws:iam::123:role/Short" }, /not an IAM role ARN/],
    [{ arn: "arn:aws:iam::123456789012:user/alice" }, /not an IAM role ARN/],
    [{ arn: ROLE_ARN, maxSessionDurationSeconds: 1800 }, /3600–43200/],
    [{ arn: ROLE_ARN, maxSessionDurationSeconds: 50_000 }, /3600–43200/],
    [{ arn: ROLE_ARN, externalId: "x" }, /externalId/],
  ])("refuses to start with a role IAM would not allow: %o", async (role, message) => {
    await expect(startAwsSandbox({ roles: [role] })).rejects.toThrow(message);
  });

  it("refuses two roles with the same name, since IAM calls name roles without their account", async () => {
    await expect(
      startAwsSandbox({
        roles: [{ arn: ROLE_ARN }, { arn: "arn:aws:iam::210987654321:role/x/ProdReadOnly" }],
      }),
    ).rejects.toThrow(/unique/);
  });
});

describe("AWS sandbox protocol edges", () => {
  let sandbox: AwsSandbox;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
  });
  afterAll(() => sandbox.close());

  it("escapes echoed values, so the SDK reads the message back intact", async () => {
    const name = `a<b>&"c'</Message>`;
    await expectAwsError(
      stsClient(sandbox, { maxAttempts: 1 }).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: name }),
      ),
      {
        code: "ValidationError",
        status: 400,
        message: `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      },
    );
  });

  it.each([
    {
      from: "Action=GetCallerIdentity",
      to: "Action=GetSessionToken",
      operation: "GetSessionToken for version 2011-06-15",
    },
    {
      from: "Version=2011-06-15",
      to: "Version=2010-05-08",
      operation: "GetCallerIdentity for version 2010-05-08",
    },
    {
      from: "Action=GetCallerIdentity",
      to: "Action=constructor",
      operation: "constructor for version 2011-06-15",
    },
  ])("answers an unknown action or version with 400 InvalidAction ($to)", async ({ from, to, operation }) => {
    const client = stsClient(sandbox, { maxAttempts: 1 });
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string };
        request.body = request.body.replace(from, to);
        request.headers["content-length"] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: "build", name: "renameAction" },
    );
    await expectAwsError(client.send(new GetCallerIdentityCommand({})), {
      code: "InvalidAction",
      status: 400,
      message: `Could not find operation ${operation}`,
    });
  });

  it("clearRecords forgets calls and issued sessions but the credentials keep working; reset revokes them", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "kept" }),
    );
    const session = stsClient(sandbox, {
      maxAttempts: 1,
      credentials: {
        accessKeyId: assumed.Credentials?.AccessKeyId ?? "",
        secretAccessKey: assumed.Credentials?.SecretAccessKey ?? "",
        sessionToken: assumed.Credentials?.SessionToken ?? "",
      },
    });
    sandbox.clearRecords();
    expect([sandbox.calls.length, sandbox.issued.length]).toEqual([0, 0]);
    await expect(session.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    sandbox.reset();
    await expectAwsError(session.send(new GetCallerIdentityCommand({})), {
      code: "InvalidClientTokenId",
      status: 403,
    });
    expect(sandbox.calls).toHaveLength(1);
  });
});
