import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { describe, expect, it } from "vitest";

const infra = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../../infra/aws/${name}`, import.meta.url)), "utf8");

describe("infra/aws policy documents", () => {
  it("the broker's permissions are a policy IAM accepts and cover every call the STS provider makes", async () => {
    const sandbox = await startAwsSandbox({ roles: [{ arn: "arn:aws:iam::123456789012:role/Check" }] });
    try {
      const iam = new IAMClient({
        region: "us-east-1",
        endpoint: sandbox.url,
        credentials: SANDBOX_ACCESS_KEY,
      });
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: "Check",
          PolicyName: "broker-permissions",
          PolicyDocument: infra("broker-permissions.json"),
        }),
      );
    } finally {
      await sandbox.close();
    }
    const actions = JSON.parse(infra("broker-permissions.json")).Statement.flatMap(
      (s: { Action: string[] }) => s.Action,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        "sts:AssumeRole",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        // Writing a role's denials reads its other policies' sizes (role-denials-writer.ts); the drift
        // reconciliation lists them too (sts-drift.ts).
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
      ]),
    );
  });
});

describe("the target role trust policy", () => {
  it("trusts only the broker, and only with Leasehold's tags and a source identity", () => {
    const [statement] = JSON.parse(infra("target-role-trust.json")).Statement;
    expect(statement).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: expect.stringMatching(/:role\/leasehold-broker$/) },
      Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      Condition: { StringLike: { "aws:RequestTag/lh-grant": "*", "sts:SourceIdentity": "*" } },
    });
  });
});
