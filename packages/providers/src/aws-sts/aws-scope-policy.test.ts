import { describe, expect, it } from "vitest";
import {
  actionCovers,
  awsScopeSettingsSchema,
  sessionPolicyFor,
  sessionPolicyProblem,
} from "./aws-scope-policy.js";

describe("an aws-role scope's session policy", () => {
  it.each([
    ["s3:*", "s3:GetObject", true],
    ["s3:Get*", "s3:GetObject", true],
    ["S3:get*", "s3:GetObject", true],
    ["s3:Get*", "s3:Get*", true],
    ["s3:Get*", "s3:*", false],
    ["s3:GetObject", "s3:Get*", false],
    ["s3:Get?bject", "s3:GetObject", true],
    ["s3:Get?bject", "s3:Get*bject", false],
    ["*", "iam:PassRole", true],
    ["s3:*", "s3api:GetObject", false],
  ])("allowed %s covers %s: %s", (pattern, action, covered) => {
    expect(actionCovers(pattern, action)).toBe(covered);
  });

  it("joins several scopes' statements into one policy, without their Sids", () => {
    const logs = awsScopeSettingsSchema.parse({ actions: ["logs:Get*"] });
    const s3 = awsScopeSettingsSchema.parse({
      policy: {
        Statement: { Sid: "One", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
      },
    });
    expect(JSON.parse(sessionPolicyFor([{ aws: logs }, { aws: s3 }]))).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["logs:Get*"], Resource: ["*"] },
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
      ],
    });
  });

  it("is refused over STS's plain-text limit, and when the target's own tags leave too little room", () => {
    expect(sessionPolicyProblem("x".repeat(2049), {})).toMatch(/2049 characters; STS allows 2048/);
    expect(sessionPolicyProblem("x".repeat(2048), {})).toBeUndefined();
    const heavyTags = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`tag-${i}`, "v".repeat(256)]));
    expect(sessionPolicyProblem("x".repeat(2048), heavyTags)).toMatch(/pack to about \d+% of STS's limit/);
  });
});
