import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, iamClient, stsClient } from "./test-aws-clients.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/ProdReadOnly";
const ROLE = "ProdReadOnly";

/** The kind of statement early revocation writes: deny one session by aws:userid, or all by issue time. */
const denySession = (userId: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "LeaseholdRevoke",
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { StringLike: { "aws:userid": [userId] } },
      },
    ],
  });

const denyIssuedBefore = JSON.stringify({
  Version: "2012-10-17",
  Statement: {
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-23T12:00:00Z" } },
  },
});

/** A valid policy whose size without whitespace is exactly `size`, padded in the resource ARN. */
function policyOfSize(size: number, whitespace = ""): string {
  const make = (padding: number) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"b".repeat(padding)}` },
      ],
    });
  const policy = make(size - make(0).length);
  expect(policy).toHaveLength(size);
  // Whitespace between JSON tokens changes nothing but the raw length.
  return policy.replaceAll(",", `,${whitespace}`);
}

describe("IAM inline role policies", () => {
  let sandbox: AwsSandbox;
  let iam: IAMClient;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }] });
    iam = iamClient(sandbox, { maxAttempts: 1 });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("GetRole returns the role with its MaxSessionDuration", async () => {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
    expect(Role).toMatchObject({
      RoleName: ROLE,
      Arn: ROLE_ARN,
      Path: "/",
      MaxSessionDuration: 7200,
      RoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}$/),
      CreateDate: expect.any(Date),
    });
    const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ""));
    expect(trust.Statement[0].Action).toEqual(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]);
  });

  it("the RoleId GetRole returns is the one in assumed-role ids (what aws:userid conditions match)", async () => {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "s1" }),
    );
    expect(assumed.AssumedRoleUser?.AssumedRoleId).toBe(`${Role?.RoleId}:s1`);
  });

  it("puts, reads (URL-encoded, as IAM returns it), lists, replaces and deletes an inline policy", async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: "revoke-1",
        PolicyDocument: denySession("AROA*:s1"),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: "revoke-all",
        PolicyDocument: denyIssuedBefore,
      }),
    );

    const got = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: "revoke-1" }));
    expect(got.RoleName).toBe(ROLE);
    expect(got.PolicyName).toBe("revoke-1");
    expect(got.PolicyDocument).toBe(encodeURIComponent(denySession("AROA*:s1")));
    expect(decodeURIComponent(got.PolicyDocument ?? "")).toBe(denySession("AROA*:s1"));

    const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE }));
    expect(listed.PolicyNames).toEqual(["revoke-1", "revoke-all"]);
    expect(listed.IsTruncated).toBe(false);

    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: "revoke-1",
        PolicyDocument: denySession("AROA*:s2"),
      }),
    );
    expect(sandbox.rolePolicies(ROLE)).toEqual({
      "revoke-1": denySession("AROA*:s2"),
      "revoke-all": denyIssuedBefore,
    });

    await iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE, PolicyName: "revoke-1" }));
    expect(Object.keys(sandbox.rolePolicies(ROLE))).toEqual(["revoke-all"]);
  });

  it("session credentials may call IAM too", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "ops" }),
    );
    const asSession = iamClient(sandbox, {
      credentials: {
        accessKeyId: assumed.Credentials?.AccessKeyId ?? "",
        secretAccessKey: assumed.Credentials?.SecretAccessKey ?? "",
        sessionToken: assumed.Credentials?.SessionToken ?? "",
      },
    });
    await expect(asSession.send(new GetRoleCommand({ RoleName: ROLE }))).resolves.toBeDefined();
  });

  describe("refusals", () => {
    it("an unknown role is 404 NoSuchEntity for every action", async () => {
      const message = "The role with name Nobody cannot be found.";
      await expectAwsError(iam.send(new GetRoleCommand({ RoleName: "Nobody" })), {
        code: "NoSuchEntity",
        status: 404,
        message,
      });
      await expectAwsError(
        iam.send(
          new PutRolePolicyCommand({ RoleName: "Nobody", PolicyName: "p", PolicyDocument: denyIssuedBefore }),
        ),
        { code: "NoSuchEntity", status: 404, message },
      );
      await expectAwsError(iam.send(new ListRolePoliciesCommand({ RoleName: "Nobody" })), {
        code: "NoSuchEntity",
        status: 404,
      });
    });

    it("an unknown policy is 404 NoSuchEntity for GetRolePolicy and DeleteRolePolicy", async () => {
      const message = "The role policy with name missing cannot be found.";
      await expectAwsError(iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: "missing" })), {
        code: "NoSuchEntity",
        status: 404,
        message,
      });
      await expectAwsError(iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE, PolicyName: "missing" })), {
        code: "NoSuchEntity",
        status: 404,
        message,
      });
    });

    it("a PolicyName outside 1–128 characters of [\\w+=,.@-] is ValidationError", async () => {
      const put = (PolicyName: string) =>
        iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName, PolicyDocument: denyIssuedBefore }));
      await expectAwsError(put("p".repeat(129)), {
        code: "ValidationError",
        status: 400,
        message:
          /^1 validation error detected: Value 'p{129}' at 'policyName' failed to satisfy constraint: Member must have length less than or equal to 128$/,
      });
      await expectAwsError(put("revoke session"), {
        code: "ValidationError",
        status: 400,
        message: /'policyName'.*regular expression/,
      });
      await expectAwsError(put(""), {
        code: "ValidationError",
        status: 400,
        message: /'policyName'.*greater than or equal to 1/,
      });
      await expect(put("p".repeat(128))).resolves.toBeDefined();
      await expect(put("a_b+c=d,e.f@g-h")).resolves.toBeDefined();
    });

    it.each([
      ["not JSON", '{"Version": ', "Syntax errors in policy."],
      [
        "no Version",
        JSON.stringify({ Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] }),
        /Version/,
      ],
      [
        "an unknown Version",
        JSON.stringify({
          Version: "2020-01-01",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
        }),
        "The policy failed legacy parsing",
      ],
      ["no Statement", JSON.stringify({ Version: "2012-10-17" }), "Syntax errors in policy."],
      [
        "no Effect",
        JSON.stringify({ Version: "2012-10-17", Statement: [{ Action: "*", Resource: "*" }] }),
        /Effect/,
      ],
      [
        "an Effect other than Allow/Deny",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Block", Action: "*", Resource: "*" }],
        }),
        "Syntax errors in policy.",
      ],
      [
        "no Action",
        JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Resource: "*" }] }),
        "Policy statement must contain actions.",
      ],
      [
        "an action without a service prefix",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "GetObject", Resource: "*" }],
        }),
        /prefaced by a vendor/,
      ],
      [
        "no Resource",
        JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*" }] }),
        "Policy statement must contain resources.",
      ],
      [
        "a resource that is not an ARN",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "bucket" }],
        }),
        /must be in ARN format/,
      ],
      [
        "a Principal",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Principal: "*", Action: "*", Resource: "*" }],
        }),
        "Policy document should not specify a principal.",
      ],
      [
        "a Sid with a hyphen",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "revoke-1", Effect: "Deny", Action: "*", Resource: "*" }],
        }),
        /must be alpha-numeric/,
      ],
      [
        "an unknown element",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*", When: "now" }],
        }),
        "Syntax errors in policy.",
      ],
      [
        "a condition key without a prefix",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Deny", Action: "*", Resource: "*", Condition: { StringEquals: { userid: "x" } } },
          ],
        }),
        /prefaced by a vendor/,
      ],
    ])("a policy with %s is 400 MalformedPolicyDocument", async (_case, PolicyDocument, message) => {
      await expectAwsError(
        iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: "bad", PolicyDocument })),
        {
          code: "MalformedPolicyDocument",
          status: 400,
          message,
        },
      );
      expect(sandbox.rolePolicies(ROLE)).toEqual({});
    });

    it("inline policies of one role may total 10,240 characters without whitespace, not more (409 LimitExceeded)", async () => {
      const put = (PolicyName: string, PolicyDocument: string) =>
        iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName, PolicyDocument }));
      // Whitespace is not counted: these two are 12,000+ characters raw but exactly 10,240 without it.
      await put("first", policyOfSize(5000, "     ".repeat(200)));
      await put("second", policyOfSize(5240, "\n\t  ".repeat(300)));
      await expectAwsError(put("third", policyOfSize(200)), {
        code: "LimitExceeded",
        status: 409,
        message: "Maximum policy size of 10240 bytes exceeded for role ProdReadOnly",
      });
      // Replacing a policy counts the new size instead of the old one.
      await expectAwsError(put("second", policyOfSize(5241)), { code: "LimitExceeded", status: 409 });
      await expect(put("second", policyOfSize(5000))).resolves.toBeDefined();
      await expect(put("third", policyOfSize(240))).resolves.toBeDefined();
      expect(Object.keys(sandbox.rolePolicies(ROLE))).toEqual(["first", "second", "third"]);
    });
  });
});
