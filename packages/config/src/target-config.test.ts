import { describe, expect, it } from "vitest";
import { targetConfigSchema } from "./target-config.js";

const valid = {
  id: "prod-readonly",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  requiredApprovals: 2,
  maxDuration: "1h",
  aws: { roleArn: "arn:aws:iam::123456789012:role/ProdReadOnly" },
};

const problems = (input: unknown): string[] => {
  const result = targetConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("target configuration", () => {
  it("parses durations and fills defaults", () => {
    const target = targetConfigSchema.parse(valid);
    expect(target).toMatchObject({
      maxDurationSeconds: 3600,
      defaultDurationSeconds: 3600,
      pendingTtlSeconds: 86_400,
      ticket: { required: false },
    });
  });

  it("minifies a session policy and refuses one over STS's size", () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:Get*", Resource: "*" }],
    };
    const target = targetConfigSchema.parse({ ...valid, aws: { ...valid.aws, sessionPolicy: policy } });
    expect(target.kind === "aws-role" && target.aws.sessionPolicy).toBe(JSON.stringify(policy));
    const huge = { ...policy, Statement: [{ ...policy.Statement[0], Resource: "x".repeat(2100) }] };
    expect(problems({ ...valid, aws: { ...valid.aws, sessionPolicy: huge } }).join()).toMatch(
      /STS allows 2048/,
    );
  });

  it.each([
    [{ maxDuration: "10m" }, /maxDuration/],
    [{ maxDuration: "13h" }, /maxDuration/],
    [{ defaultDuration: "2h" }, /defaultDuration/],
    [{ requiredApprovals: 0 }, /requiredApprovals/],
    [{ approvers: { users: ["a@example.com"] } }, /only 1 approver/],
    [{ id: "Prod Readonly" }, /target id/],
    [{ kind: "gcp" }, /kind/],
    [{ aws: { roleArn: "arn:aws:iam::123:user/x" } }, /roleArn/],
    [{ aws: { ...valid.aws, sessionTags: { "aws:team": "x" } } }, /aws:/],
    [{ aws: { ...valid.aws, sessionTags: { "LH-Request": "x" } } }, /case-insensitive/],
    [{ aws: { ...valid.aws, sessionTags: { team: "a;b" } } }, /tag value/],
    [{ ticket: { pattern: "([" } }, /regular expression/],
    [{ unknownField: true }, /unrecognized|Unrecognized/],
    [{ requesters: undefined, approvers: undefined }, /nobody can use this target/],
    [{ leases: [{ provider: "ci", subject: "a*b", maxTtl: "1h" }] }, /prefix ending in a single \*/],
    [{ leases: [{ provider: "ci", subject: "app", maxTtl: "2h" }] }, /maxTtl must be between/],
  ])("refuses %o", (override, message) => {
    expect(problems({ ...valid, ...override }).join("\n")).toMatch(message);
  });
});

describe("database targets", () => {
  const sql = {
    id: "orders",
    kind: "sql",
    leases: [{ provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "1h" }],
    maxDuration: "2h",
    sql: {
      engine: "postgres",
      adminUrlEnv: "ORDERS_DB_ADMIN_URL",
      creationStatements: [
        `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      ],
    },
  };

  it("a workload-only target needs no requesters, and gets default revocation and renewal", () => {
    const target = targetConfigSchema.parse(sql);
    expect(target.kind === "sql" && target.sql.revocationStatements).toEqual([
      'DROP ROLE IF EXISTS "{{name}}"',
    ]);
    expect(target.kind === "sql" && target.sql.renewStatements).toEqual([
      `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`,
    ]);
    expect(target.leases).toEqual([
      {
        provider: "k8s",
        subject: "system:serviceaccount:orders:*",
        claims: {},
        maxTtlSeconds: 3600,
        maxActive: 100,
      },
    ]);
  });

  it.each([
    ["an unquoted name", `CREATE ROLE {{name}} LOGIN`, /must be written inside "…"/],
    ["a name in single quotes on PostgreSQL", `CREATE ROLE '{{name}}'`, /must be written inside "…"/],
    [
      "an unquoted password",
      `CREATE ROLE "{{name}}" PASSWORD {{password}}`,
      /\{\{password\}\} must be written/,
    ],
    ["a half-quoted name", `CREATE ROLE "{{name}}; DROP TABLE x; --`, /must be written inside/],
    [
      "an unknown placeholder",
      `CREATE ROLE "{{name}}" IN ROLE "{{group}}"`,
      /\{\{group\}\} is not a placeholder/,
    ],
  ])("refuses a template with %s", (_name, statement, message) => {
    expect(problems({ ...sql, sql: { ...sql.sql, creationStatements: [statement] } }).join()).toMatch(
      message,
    );
  });

  it("refuses a Vault path outside a database credentials path", () => {
    expect(
      problems({
        ...sql,
        kind: "vault",
        sql: undefined,
        vault: { path: "secret/data/../../sys/raw" },
      }).join(),
    ).toMatch(/database credentials path/);
  });
});
