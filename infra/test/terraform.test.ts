import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { infraFiles, isObject, type Json, type JsonObject, present, readInfra } from "./support.js";

/** A Terraform interpolation as hcl2json writes it: tf("var.x") is the text "${var.x}". */
const tf = (expression: string) => `$\{${expression}}`;

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource?: string;
  Principal?: { AWS: string };
  Condition?: Record<string, Record<string, string>>;
};
const policyJson = (name: string) => JSON.parse(readInfra(`aws/${name}`)) as { Statement: Statement[] };

const tfFiles = infraFiles((path) => path.startsWith("terraform/") && path.endsWith(".tf"));
const parsed = new Map<string, JsonObject>();

beforeAll(async () => {
  for (const file of tfFiles) parsed.set(file, (await parse(file, readInfra(file))) as JsonObject);
});

/** hcl2json writes each block as a list of bodies; this walks `path`, taking the first body of each. */
function block(file: string, ...path: string[]): JsonObject {
  let node: Json = present(parsed.get(file), file);
  for (const key of path) {
    const next: Json | undefined = isObject(node) ? node[key] : undefined;
    node = Array.isArray(next) ? (next[0] ?? null) : (next ?? null);
    if (!isObject(node)) throw new Error(`${file}: no block at ${path.join(".")}`);
  }
  return node as JsonObject;
}

type TfStatement = {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[] | string;
  principals?: { type: string; identifiers: string[] | string }[];
  condition?: { test: string; variable: string; values: string[] }[];
};

const statementsOf = (file: string, document: string): TfStatement[] => {
  const body = block(file, "data", "aws_iam_policy_document", document);
  return (Array.isArray(body.statement) ? body.statement : []) as TfStatement[];
};

describe("Terraform", () => {
  it("has the root module and the target-role module", () => {
    expect(tfFiles).toEqual([
      "terraform/main.tf",
      "terraform/modules/target-role/main.tf",
      "terraform/modules/target-role/outputs.tf",
      "terraform/modules/target-role/variables.tf",
      "terraform/modules/target-role/versions.tf",
      "terraform/outputs.tf",
      "terraform/variables.tf",
      "terraform/versions.tf",
    ]);
  });

  it("every .tf file parses as HCL, and the parser does reject broken HCL", async () => {
    for (const file of tfFiles)
      expect(Object.keys(present(parsed.get(file), file)).length, file).toBeGreaterThan(0);
    await expect(parse("broken.tf", 'resource "x" "y" {\n  a = \n')).rejects.toThrow();
  });

  it("pins the AWS provider", () => {
    const providers = block("terraform/versions.tf", "terraform", "required_providers");
    const aws = present(isObject(providers.aws) ? providers.aws : undefined, "aws provider");
    expect(aws.source).toBe("hashicorp/aws");
    // An exact version, or ~> on a major.minor: never an open-ended >= or no constraint at all.
    expect(String(aws.version)).toMatch(/^(=\s*\d+\.\d+\.\d+|~>\s*\d+\.\d+(\.\d+)?)$/);
    expect(block("terraform/versions.tf", "terraform").required_version).toMatch(/^>=\s*1\.\d+/);
  });

  describe("the broker role", () => {
    const file = "terraform/main.tf";

    it("is assumed only by the principals the variable names", () => {
      const [statement, ...rest] = statementsOf(file, "broker_trust");
      expect(rest).toEqual([]);
      expect(statement?.effect).toBe("Allow");
      expect(statement?.actions).toEqual(["sts:AssumeRole"]);
      expect(statement?.principals).toEqual([
        { type: "AWS", identifiers: tf("var.broker_trusted_principal_arns") },
      ]);
      const role = block(file, "resource", "aws_iam_role", "broker");
      expect(role.assume_role_policy).toBe(tf("data.aws_iam_policy_document.broker_trust.json"));
    });

    it("has exactly the permissions of infra/aws/broker-permissions.json, plus Secrets Manager rotation", () => {
      const locals = block(file, "locals");
      const resolve = (value: string) =>
        value
          .replace(tf("local.target_role_arns"), String(locals.target_role_arns))
          .replace(tf("local.target_role_path"), String(locals.target_role_path))
          .replace(tf("data.aws_partition.current.partition"), "aws");
      const statements = statementsOf(file, "broker_permissions");
      const bySid = new Map(statements.map((s) => [s.sid, s]));
      const reference = policyJson("broker-permissions.json").Statement;
      expect(reference.length).toBeGreaterThan(0);
      for (const expected of reference) {
        const actual = present(bySid.get(expected.Sid), `statement ${expected.Sid}`);
        expect(actual.effect).toBe(expected.Effect);
        expect([...(actual.actions ?? [])].sort()).toEqual([...expected.Action].sort());
        const resources = Array.isArray(actual.resources) ? actual.resources : [];
        expect(resources.map(resolve)).toEqual([expected.Resource]);
      }
      const secretsManager = [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ];
      const allActions = statements.flatMap((s) => s.actions ?? []).sort();
      expect(allActions).toEqual([...reference.flatMap((s) => s.Action), ...secretsManager].sort());
      expect(statements.every((s) => s.effect === "Allow" && !s.principals)).toBe(true);
    });

    it("may touch only secrets tagged for Leasehold rotation", () => {
      const rotation = statementsOf(file, "broker_permissions").filter((s) =>
        (s.actions ?? []).some((a) => a.startsWith("secretsmanager:")),
      );
      expect(rotation).toHaveLength(1);
      expect(rotation[0]?.condition).toEqual([
        {
          test: "StringEquals",
          variable: `aws:ResourceTag/${tf("var.rotation_secret_tag_key")}`,
          values: [tf("var.rotation_secret_tag_value")],
        },
      ]);
      expect(rotation[0]?.actions).not.toContain("secretsmanager:TagResource");
    });

    /** The statements present only when their variable is not empty, by that variable. */
    const optionalStatements = () => {
      const body = block(file, "data", "aws_iam_policy_document", "broker_permissions");
      const dynamic =
        isObject(body.dynamic) && Array.isArray(body.dynamic.statement) ? body.dynamic.statement : [];
      return dynamic as { for_each: string; content: TfStatement[] }[];
    };

    it("has two optional statements, each only when its variable is given", () => {
      expect(optionalStatements().map((s) => s.for_each)).toEqual([
        tf("length(var.rotated_iam_user_arns) > 0 ? [1] : []"),
        tf("length(var.secrets_kms_key_arns) > 0 ? [1] : []"),
      ]);
    });

    it("rotates access keys only of the IAM users it is given", () => {
      const [iam] = optionalStatements();
      const [content] = iam?.content ?? [];
      expect(content?.sid).toBe("RotateAccessKeysOfNamedUsers");
      expect([...(content?.actions ?? [])].sort()).toEqual([
        "iam:CreateAccessKey",
        "iam:DeleteAccessKey",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
      ]);
      expect(content?.resources).toBe(tf("var.rotated_iam_user_arns"));
    });

    it("uses customer-managed KMS keys only through Secrets Manager, and only when some are given", () => {
      const kms = optionalStatements()[1];
      expect(kms?.for_each).toContain("var.secrets_kms_key_arns");
      const [content] = kms?.content ?? [];
      expect(content?.actions).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
      expect(content?.condition).toEqual([
        { test: "StringLike", variable: "kms:ViaService", values: ["secretsmanager.*.amazonaws.com"] },
      ]);
    });

    it("keeps target roles under the path the JSON policies use", () => {
      expect(block(file, "locals").target_role_path).toBe("/leasehold-target/");
      expect(block("terraform/modules/target-role/main.tf", "locals").path).toBe("/leasehold-target/");
      const resource = policyJson("broker-permissions.json").Statement[0]?.Resource;
      expect(resource).toBe("arn:aws:iam::*:role/leasehold-target/*");
    });
  });

  describe("the target-role module", () => {
    const file = "terraform/modules/target-role/main.tf";

    it("trusts only the broker role, and only with the lh-grant and lh-request tags and a source identity", () => {
      const [statement, ...rest] = statementsOf(file, "trust");
      expect(rest, "one statement: nothing else may assume the role").toEqual([]);
      const [reference] = policyJson("target-role-trust.json").Statement;
      expect(statement?.effect).toBe("Allow");
      expect([...(statement?.actions ?? [])].sort()).toEqual([...(reference?.Action ?? [])].sort());
      expect(statement?.principals).toEqual([{ type: "AWS", identifiers: [tf("var.broker_role_arn")] }]);
      const conditions = statement?.condition ?? [];
      const required = Object.entries(reference?.Condition?.StringLike ?? {});
      expect(required.map(([key]) => key).sort()).toEqual(
        ["aws:RequestTag/lh-grant", "aws:RequestTag/lh-request", "sts:SourceIdentity"].sort(),
      );
      expect(conditions).toHaveLength(required.length);
      for (const [variable, value] of required) {
        expect(conditions).toContainEqual({ test: "StringLike", variable, values: [value] });
      }
    });

    it("creates the role under /leasehold-target/ and leaves its inline policies to Leasehold", () => {
      const role = block(file, "resource", "aws_iam_role", "this");
      expect(role.path).toBe(tf("local.path"));
      expect(role.assume_role_policy).toBe(tf("data.aws_iam_policy_document.trust.json"));
      expect(role.max_session_duration).toBe(tf("var.max_session_duration"));
      // Either would make Terraform manage the role's inline policies exclusively, deleting the per-grant
      // Deny policies that early revocation adds.
      expect(role.inline_policy).toBeUndefined();
      expect(role.managed_policy_arns).toBeUndefined();
      const attachment = block(file, "resource", "aws_iam_role_policy_attachment", "managed");
      expect(attachment.for_each).toBe(tf("toset(var.managed_policy_arns)"));
    });

    it("takes max_session_duration (default 3600) and the managed policies as variables", () => {
      const variables = "terraform/modules/target-role/variables.tf";
      expect(block(variables, "variable", "max_session_duration").default).toBe(3600);
      expect(block(variables, "variable", "max_session_duration").validation).toBeDefined();
      expect(block(variables, "variable", "managed_policy_arns").type).toBe(tf("list(string)"));
      expect(block(variables, "variable", "broker_role_arn").validation).toBeDefined();
    });

    it("is instantiated for prod-readonly with ReadOnlyAccess, trusting the broker role", () => {
      const instance = block("terraform/main.tf", "module", "prod_readonly");
      expect(instance).toMatchObject({
        source: "./modules/target-role",
        name: "prod-readonly",
        broker_role_arn: tf("aws_iam_role.broker.arn"),
        managed_policy_arns: [
          `arn:${tf("data.aws_partition.current.partition")}:iam::aws:policy/ReadOnlyAccess`,
        ],
      });
    });
  });
});
