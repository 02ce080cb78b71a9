import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, iamClient, manualClock, stsClient } from "./test-aws-clients.js";

const USER = "thirdparty-tool";
const USER_ARN = `arn:aws:iam::123456789012:user/${USER}`;
const INITIAL = {
  accessKeyId: "AKIDTHIRDPARTYTOOL01",
  secretAccessKey: "initial/secret/of/the/tool/key0000000000",
};

/** IAM access keys of a user (shared/contracts/wave2.md §3), through the real IAM and STS clients. */
describe("IAM access keys in the AWS stand-in", () => {
  const clock = manualClock();
  let sandbox: AwsSandbox;
  const iam = () => iamClient(sandbox, { maxAttempts: 1 });
  const callerWith = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    stsClient(sandbox, { credentials, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  const create = async () => {
    const out = await iam().send(new CreateAccessKeyCommand({ UserName: USER }));
    return {
      accessKeyId: out.AccessKey?.AccessKeyId ?? "",
      secretAccessKey: out.AccessKey?.SecretAccessKey ?? "",
    };
  };

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: "arn:aws:iam::123456789012:role/ProdReadOnly" }],
      users: [{ name: USER, accessKeys: [INITIAL] }, { name: "empty-user" }],
      clock: clock.now,
    });
  });
  beforeEach(() => sandbox.reset());
  afterAll(() => sandbox.close());

  it("a user's configured key signs calls as that user", async () => {
    const identity = await callerWith(INITIAL);
    expect(identity.Arn).toBe(USER_ARN);
    expect(identity.Account).toBe("123456789012");
    expect(identity.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
  });

  it("creates an Active key whose secret is returned once and which works at once; ListAccessKeys never shows a secret", async () => {
    const out = await iam().send(new CreateAccessKeyCommand({ UserName: USER }));
    expect(out.AccessKey).toMatchObject({ UserName: USER, Status: "Active" });
    const created = {
      accessKeyId: out.AccessKey?.AccessKeyId ?? "",
      secretAccessKey: out.AccessKey?.SecretAccessKey ?? "",
    };
    expect(created.accessKeyId).toMatch(/^\w{16,128}$/);
    expect(created.secretAccessKey).toHaveLength(40);
    expect((await callerWith(created)).Arn).toBe(USER_ARN);
    sandbox.clearRecords();
    const listed = await iam().send(new ListAccessKeysCommand({ UserName: USER }));
    expect(listed.AccessKeyMetadata?.map((key) => [key.AccessKeyId, key.Status])).toEqual([
      [INITIAL.accessKeyId, "Active"],
      [created.accessKeyId, "Active"],
    ]);
    expect(listed.IsTruncated).toBe(false);
    expect(sandbox.allPayloadsText()).not.toContain(created.secretAccessKey);
  });

  it("refuses a third key with 409 LimitExceeded, inactive keys counting, and changes nothing", async () => {
    const second = await create();
    await iam().send(
      new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: second.accessKeyId, Status: "Inactive" }),
    );
    await expectAwsError(iam().send(new CreateAccessKeyCommand({ UserName: USER })), {
      code: "LimitExceeded",
      status: 409,
      message: "Cannot exceed quota for AccessKeysPerUser: 2",
    });
    expect(sandbox.accessKeys(USER).map((key) => key.accessKeyId)).toEqual([
      INITIAL.accessKeyId,
      second.accessKeyId,
    ]);
  });

  it("an Inactive key is refused with InvalidClientTokenId and works again once reactivated", async () => {
    await iam().send(
      new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId, Status: "Inactive" }),
    );
    expect(sandbox.accessKeys(USER)[0]?.status).toBe("Inactive");
    await expectAwsError(callerWith(INITIAL), { code: "InvalidClientTokenId", status: 403 });
    await iam().send(
      new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId, Status: "Active" }),
    );
    expect((await callerWith(INITIAL)).Arn).toBe(USER_ARN);
  });

  it("a deleted key is gone for good: refused as unknown, and deleting it again is NoSuchEntity", async () => {
    await iam().send(new DeleteAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId }));
    expect(sandbox.accessKeys(USER)).toEqual([]);
    await expectAwsError(callerWith(INITIAL), { code: "InvalidClientTokenId", status: 403 });
    await expectAwsError(
      iam().send(new DeleteAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId })),
      {
        code: "NoSuchEntity",
        status: 404,
        message: `The Access Key with id ${INITIAL.accessKeyId} cannot be found.`,
      },
    );
  });

  it("a key signed with the wrong secret is SignatureDoesNotMatch", async () => {
    await expectAwsError(callerWith({ ...INITIAL, secretAccessKey: `${INITIAL.secretAccessKey}x` }), {
      code: "SignatureDoesNotMatch",
      status: 403,
    });
  });

  it("an unknown user is NoSuchEntity for every action, and another user's key is not this user's", async () => {
    const message = "The user with name nobody cannot be found.";
    await expectAwsError(iam().send(new CreateAccessKeyCommand({ UserName: "nobody" })), {
      code: "NoSuchEntity",
      status: 404,
      message,
    });
    await expectAwsError(iam().send(new ListAccessKeysCommand({ UserName: "nobody" })), {
      code: "NoSuchEntity",
      status: 404,
      message,
    });
    await expectAwsError(
      iam().send(
        new UpdateAccessKeyCommand({
          UserName: "empty-user",
          AccessKeyId: INITIAL.accessKeyId,
          Status: "Inactive",
        }),
      ),
      { code: "NoSuchEntity", status: 404 },
    );
    expect(
      (await iam().send(new ListAccessKeysCommand({ UserName: "empty-user" }))).AccessKeyMetadata,
    ).toEqual([]);
    expect(sandbox.accessKeys(USER)[0]?.status).toBe("Active");
  });

  it("refuses parameters outside the model with ValidationError, naming each, and changes nothing", async () => {
    const error = await expectAwsError(
      iam().send(
        new UpdateAccessKeyCommand({
          UserName: "bad name",
          AccessKeyId: "short",
          Status: "Gone" as "Active",
        }),
      ),
      { code: "ValidationError", status: 400 },
    );
    expect(error.message).toMatch(/^3 validation errors detected: /);
    expect(error.message).toContain(
      "at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16",
    );
    expect(error.message).toContain(
      "at 'status' failed to satisfy constraint: Member must satisfy enum value set",
    );
    expect(error.message).toContain(
      "at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    await expectAwsError(iam().send(new ListAccessKeysCommand({ UserName: USER, MaxItems: 1001 })), {
      code: "ValidationError",
      status: 400,
      message:
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000",
    });
    await expectAwsError(
      iam().send(
        new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId, Status: "Expired" }),
      ),
      { code: "InvalidInput", status: 400 },
    );
    expect(sandbox.accessKeys(USER)[0]?.status).toBe("Active");
  });

  it("without UserName, a user's key acts on its own user; session credentials must name the user", async () => {
    const own = iamClient(sandbox, { credentials: INITIAL, maxAttempts: 1 });
    const listed = await own.send(new ListAccessKeysCommand({}));
    expect(listed.AccessKeyMetadata?.map((key) => key.UserName)).toEqual([USER]);
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({
        RoleArn: "arn:aws:iam::123456789012:role/ProdReadOnly",
        RoleSessionName: "keys",
      }),
    );
    const session = iamClient(sandbox, {
      maxAttempts: 1,
      credentials: {
        accessKeyId: assumed.Credentials?.AccessKeyId ?? "",
        secretAccessKey: assumed.Credentials?.SecretAccessKey ?? "",
        sessionToken: assumed.Credentials?.SessionToken ?? "",
      },
    });
    await expectAwsError(session.send(new ListAccessKeysCommand({})), {
      code: "ValidationError",
      status: 400,
      message: "Must specify userName when calling with non-User credentials",
    });
  });

  it("with an activation delay, a new key is refused until IAM has propagated it", async () => {
    const delayed = await startAwsSandbox({
      roles: [],
      users: [{ name: USER }],
      clock: clock.now,
      accessKeyActivationSeconds: 10,
    });
    try {
      const out = await iamClient(delayed, { maxAttempts: 1 }).send(
        new CreateAccessKeyCommand({ UserName: USER }),
      );
      const created = {
        accessKeyId: out.AccessKey?.AccessKeyId ?? "",
        secretAccessKey: out.AccessKey?.SecretAccessKey ?? "",
      };
      const call = () =>
        stsClient(delayed, { credentials: created, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
      await expectAwsError(call(), { code: "InvalidClientTokenId", status: 403 });
      clock.advanceSeconds(10);
      // The client signs with the wall clock: the sandbox is now 10 s ahead, well within the 5-minute skew.
      expect((await call()).Arn).toBe(USER_ARN);
    } finally {
      await delayed.close();
    }
  });

  it("reset brings back the configured keys and forgets created ones", async () => {
    const created = await create();
    sandbox.reset();
    expect(sandbox.accessKeys(USER).map((key) => key.accessKeyId)).toEqual([INITIAL.accessKeyId]);
    await expectAwsError(callerWith(created), { code: "InvalidClientTokenId", status: 403 });
  });
});
