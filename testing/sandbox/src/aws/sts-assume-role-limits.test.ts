import { AssumeRoleCommand, type AssumeRoleCommandInput, type STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, stsClient } from "./test-aws-clients.js";

/**
 * Every AssumeRole limit in shared/contracts/README.md, sent through the real SDK: the stand-in must
 * refuse it with the status and error code the real STS uses, and issue nothing.
 */

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ProdReadOnly`;
const LONG_ROLE = `arn:aws:iam::${ACCOUNT}:role/LongSessions`;
const NO_TAG_ROLE = `arn:aws:iam::${ACCOUNT}:role/NoTagSession`;
const NO_SOURCE_ROLE = `arn:aws:iam::${ACCOUNT}:role/NoSourceIdentity`;
const PARTNER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Partner`;

const VALID_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/*" }],
});

/** A policy of exactly `length` characters that is valid JSON (padding inside a Sid-less string). */
function policyOfLength(length: number): string {
  const base = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "" }],
  };
  const emptyLength = JSON.stringify(base).length;
  const first = base.Statement[0];
  if (first !== undefined) first.Resource = `arn:aws:s3:::${"b".repeat(length - emptyLength - 13)}`;
  const policy = JSON.stringify(base);
  expect(policy).toHaveLength(length);
  return policy;
}

const tags = (count: number, keyLength = 8, valueLength = 8) =>
  Array.from({ length: count }, (_, i) => ({
    Key: `k${String(i).padStart(keyLength - 1, "0")}`,
    Value: "v".repeat(valueLength),
  }));

describe("AssumeRole limits", () => {
  let sandbox: AwsSandbox;
  let sts: STSClient;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [
        { arn: ROLE },
        { arn: LONG_ROLE, maxSessionDurationSeconds: 43_200 },
        { arn: NO_TAG_ROLE, allowTagSession: false },
        { arn: NO_SOURCE_ROLE, allowSetSourceIdentity: false },
        { arn: PARTNER_ROLE, externalId: "partner-7f3a" },
      ],
    });
    sts = stsClient(sandbox, { maxAttempts: 1 });
  });
  afterAll(() => sandbox.close());

  const assume = (input: Partial<AssumeRoleCommandInput>) =>
    sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "lh-session", ...input }));

  /** The call fails with `code` and `status`, and no session is issued. */
  async function refused(
    input: Partial<AssumeRoleCommandInput>,
    code: string,
    status: number,
    message?: string | RegExp,
  ) {
    const before = sandbox.issued.length;
    await expectAwsError(assume(input), { code, status, ...(message === undefined ? {} : { message }) });
    expect(sandbox.issued).toHaveLength(before);
  }

  const validationError = (input: Partial<AssumeRoleCommandInput>, message?: string | RegExp) =>
    refused(input, "ValidationError", 400, message);

  describe("RoleArn", () => {
    it("is refused under 20 characters, in AWS's wording", async () => {
      await validationError(
        { RoleArn: "arn:aws:iam::1:r/x" },
        "1 validation error detected: Value 'arn:aws:iam::1:r/x' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
      );
    });
    it("is refused over 2048 characters", async () => {
      await validationError(
        { RoleArn: `arn:aws:iam::${ACCOUNT}:role/${"r".repeat(2048)}` },
        /at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048$/,
      );
    });
    it("naming a role the sandbox does not know is AccessDenied", async () => {
      await refused(
        { RoleArn: `arn:aws:iam::${ACCOUNT}:role/Unknown` },
        "AccessDenied",
        403,
        `User: arn:aws:iam::${ACCOUNT}:user/leasehold-sandbox is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${ACCOUNT}:role/Unknown`,
      );
    });
  });

  describe("RoleSessionName", () => {
    it("is refused under 2 characters", async () => {
      await validationError(
        { RoleSessionName: "a" },
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
      );
    });
    it("is refused over 64 characters, and 64 is accepted", async () => {
      await validationError({ RoleSessionName: "s".repeat(65) }, /less than or equal to 64$/);
      await expect(assume({ RoleSessionName: "s".repeat(64) })).resolves.toBeDefined();
    });
    it("is refused with characters outside [\\w+=,.@-]", async () => {
      await validationError(
        { RoleSessionName: "alice smith" },
        "1 validation error detected: Value 'alice smith' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      );
      await validationError({ RoleSessionName: "alice/smith" });
      await expect(assume({ RoleSessionName: "a_b+c=d,e.f@g-h" })).resolves.toBeDefined();
    });
    it("reports every broken constraint together", async () => {
      const name = "a b".repeat(30);
      await validationError(
        { RoleSessionName: name, DurationSeconds: 60 },
        "3 validation errors detected: " +
          `Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; ` +
          `Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; ` +
          "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
    });
  });

  describe("DurationSeconds", () => {
    it("is refused under 900", async () => {
      await validationError(
        { DurationSeconds: 899 },
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
    });
    it("is refused over 43200 even for a role that allows 12 hours", async () => {
      await validationError(
        { RoleArn: LONG_ROLE, DurationSeconds: 43_201 },
        /Member must have value less than or equal to 43200$/,
      );
      await expect(assume({ RoleArn: LONG_ROLE, DurationSeconds: 43_200 })).resolves.toBeDefined();
    });
    it("is refused over the role's MaxSessionDuration (default 3600)", async () => {
      await validationError(
        { DurationSeconds: 3601 },
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
      await expect(assume({ DurationSeconds: 3600 })).resolves.toBeDefined();
      await expect(assume({ DurationSeconds: 900 })).resolves.toBeDefined();
    });
  });

  describe("Policy and PolicyArns", () => {
    it("a session policy over 2048 characters is refused, and one of 2048 is accepted", async () => {
      await validationError(
        { Policy: policyOfLength(2049) },
        /at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048$/,
      );
      const accepted = await assume({ Policy: policyOfLength(2048) });
      expect(accepted.PackedPolicySize).toBeLessThanOrEqual(50);
    });
    it("a session policy with characters outside U+0009–U+00FF is refused", async () => {
      await validationError(
        { Policy: VALID_POLICY.replace("bucket", "bücket→") },
        /regular expression pattern/,
      );
    });
    it("a session policy that is not JSON, or not a policy, is MalformedPolicyDocument", async () => {
      await refused({ Policy: "{not json" }, "MalformedPolicyDocument", 400);
      await refused(
        {
          Policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Resource: "*" }] }),
        },
        "MalformedPolicyDocument",
        400,
        "Policy statement must contain actions.",
      );
    });
    it("more than 10 managed policy ARNs are refused, and 10 are accepted", async () => {
      const arns = Array.from({ length: 11 }, (_, i) => ({ arn: `arn:aws:iam::aws:policy/Policy${i}` }));
      await validationError(
        { PolicyArns: arns },
        /at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10$/,
      );
      await expect(assume({ PolicyArns: arns.slice(0, 10) })).resolves.toBeDefined();
    });
    it("a managed policy ARN under 20 characters is refused", async () => {
      await validationError({ PolicyArns: [{ arn: "arn:aws:iam::aws:p" }] }, /at 'policyArns.1.member.arn'/);
    });
  });

  describe("Tags", () => {
    it("more than 50 tags are refused", async () => {
      await validationError(
        { Tags: tags(51, 4, 0) },
        /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50$/,
      );
    });
    it("a key over 128 characters is refused, in AWS's wording", async () => {
      const key = "k".repeat(129);
      await validationError(
        { Tags: [{ Key: key, Value: "v" }] },
        `1 validation error detected: Value '${key}' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128`,
      );
      await expect(assume({ Tags: [{ Key: "k".repeat(128), Value: "v" }] })).resolves.toBeDefined();
    });
    it("an empty key is refused", async () => {
      await validationError(
        { Tags: [{ Key: "", Value: "v" }] },
        /'tags.1.member.key'.*greater than or equal to 1/,
      );
    });
    it("a value over 256 characters is refused, and an empty value is accepted", async () => {
      await validationError(
        { Tags: [{ Key: "team", Value: "v".repeat(257) }] },
        /at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256$/,
      );
      await expect(assume({ Tags: [{ Key: "team", Value: "" }] })).resolves.toBeDefined();
    });
    it("characters outside letters, digits, spaces and _.:/=+-@ are refused in keys and values", async () => {
      await validationError(
        { Tags: [{ Key: "team#1", Value: "v" }] },
        /'tags.1.member.key'.*regular expression/,
      );
      await validationError(
        { Tags: [{ Key: "team", Value: "a,b" }] },
        /'tags.1.member.value'.*regular expression/,
      );
      await validationError({ Tags: [{ Key: "team", Value: "a\tb" }] }, /'tags.1.member.value'/);
      await expect(
        assume({ Tags: [{ Key: "Équipe 1_.:/=+-@", Value: "Zürich 東京 ٣" }] }),
      ).resolves.toBeDefined();
    });
    it("a key starting with aws: (any case) is refused", async () => {
      await validationError({ Tags: [{ Key: "aws:team", Value: "v" }] }, /'tags.1.member.key'.*aws:/);
      await validationError({ Tags: [{ Key: "AWS:Team", Value: "v" }] }, /'tags.1.member.key'.*aws:/);
    });
    it("two keys differing only in case are refused", async () => {
      await validationError(
        {
          Tags: [
            { Key: "Team", Value: "a" },
            { Key: "team", Value: "b" },
          ],
        },
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
      );
    });
    it("tags on a role whose trust policy lacks sts:TagSession are AccessDenied", async () => {
      await refused(
        { RoleArn: NO_TAG_ROLE, Tags: [{ Key: "team", Value: "a" }] },
        "AccessDenied",
        403,
        /is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role\/NoTagSession$/,
      );
      await expect(assume({ RoleArn: NO_TAG_ROLE })).resolves.toBeDefined();
    });
    it("policy and tags packed beyond the limit are PackedPolicyTooLarge", async () => {
      // 50 tags of 20 + 20 characters pack to 2100 bytes of the model's 2048 (see packed-policy.ts).
      await refused(
        { Tags: tags(50, 20, 20) },
        "PackedPolicyTooLarge",
        400,
        "Packed policy consumes 103% of allotted space, please use smaller policy.",
      );
      const fits = await assume({ Tags: tags(50, 20, 18) });
      expect(fits.PackedPolicySize).toBe(98);
    });
  });

  describe("TransitiveTagKeys", () => {
    it("a transitive key that is not among the tags is refused", async () => {
      await validationError(
        { Tags: [{ Key: "team", Value: "a" }], TransitiveTagKeys: ["project"] },
        /transitive tag key 'project' must be included in the requested tags/,
      );
      await expect(
        assume({ Tags: [{ Key: "team", Value: "a" }], TransitiveTagKeys: ["TEAM"] }),
      ).resolves.toBeDefined();
    });
    it("more than 50 transitive keys are refused", async () => {
      await validationError(
        {
          Tags: tags(50, 4, 0),
          TransitiveTagKeys: Array.from({ length: 51 }, (_, i) => `k${String(i).padStart(3, "0")}`),
        },
        /at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to 50$/,
      );
    });
  });

  describe("ExternalId", () => {
    it("is refused under 2 or over 1224 characters, or with other characters than [\\w+=,./@:-]", async () => {
      await validationError({ ExternalId: "x" }, /at 'externalId'.*greater than or equal to 2$/);
      await validationError({ ExternalId: "x".repeat(1225) }, /at 'externalId'.*less than or equal to 1224$/);
      await validationError({ ExternalId: "has space" }, /at 'externalId'.*regular expression pattern/);
      await expect(assume({ ExternalId: "a+=,./@:-_z" })).resolves.toBeDefined();
    });
    it("a missing or different external id for a role that requires one is AccessDenied", async () => {
      await refused({ RoleArn: PARTNER_ROLE }, "AccessDenied", 403, /sts:AssumeRole/);
      await refused({ RoleArn: PARTNER_ROLE, ExternalId: "partner-0000" }, "AccessDenied", 403);
      await expect(assume({ RoleArn: PARTNER_ROLE, ExternalId: "partner-7f3a" })).resolves.toBeDefined();
    });
  });

  describe("SourceIdentity", () => {
    it("is refused under 2 or over 64 characters, or with other characters than [\\w+=,.@-]", async () => {
      await validationError({ SourceIdentity: "a" }, /at 'sourceIdentity'.*greater than or equal to 2$/);
      await validationError(
        { SourceIdentity: "a".repeat(65) },
        /at 'sourceIdentity'.*less than or equal to 64$/,
      );
      await validationError({ SourceIdentity: "alice smith" }, /at 'sourceIdentity'.*regular expression/);
    });
    it("is refused when it starts with aws:", async () => {
      // ":" is outside the pattern, so the pattern already refuses every aws: prefix.
      await validationError(
        { SourceIdentity: "aws:alice" },
        "1 validation error detected: Value 'aws:alice' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      );
    });
    it("on a role whose trust policy lacks sts:SetSourceIdentity is AccessDenied", async () => {
      await refused(
        { RoleArn: NO_SOURCE_ROLE, SourceIdentity: "alice" },
        "AccessDenied",
        403,
        /sts:SetSourceIdentity on resource: arn:aws:iam::123456789012:role\/NoSourceIdentity$/,
      );
    });
  });

  describe("MFA parameters", () => {
    it("a SerialNumber under 9 characters or a TokenCode that is not 6 digits is refused", async () => {
      await validationError({ SerialNumber: "arn:mfa1" }, /at 'serialNumber'.*greater than or equal to 9$/);
      await validationError({ TokenCode: "12345" }, /at 'tokenCode'.*greater than or equal to 6$/);
      await validationError(
        { TokenCode: "12345a" },
        /at 'tokenCode'.*regular expression pattern: \[\\d\]\*$/,
      );
    });
  });
});
