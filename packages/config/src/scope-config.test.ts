import { asAwsRoleTarget, asVaultTarget } from "@leasehold/providers/schemas";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { parseConfig } from "./load-config.js";

/** Per-request scopes in leasehold.yaml: a bad scope stops the process with a message saying what to fix. */

const head = `
identityProviders:
  - name: corp
    issuer: https://login.example.com
    audience: leasehold
targets:
`;

const awsTarget = (aws: string, scopes: string) => `${head}  - id: prod
    kind: aws-role
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    aws:
      roleArn: arn:aws:iam::123456789012:role/Prod
${aws}
    scopes:
${scopes}
`;

const ALLOWED = "      allowedActions: ['s3:Get*', 's3:List*', 'logs:*']";

const problemsOf = (text: string): string => {
  try {
    parseConfig(text, "leasehold.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected the configuration to be refused");
};

describe("scopes in leasehold.yaml", () => {
  it("loads an aws-role target's scopes as session policy statements, with defaults", () => {
    const config = parseConfig(
      `${awsTarget(
        ALLOWED,
        `      - name: reports
        description: Read the reports bucket
        aws: { actions: ['s3:GetObject', 's3:ListBucket'], resources: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*'] }
      - name: logs
        aws:
          policy: { Version: '2012-10-17', Statement: [{ Sid: 'Logs', Effect: Allow, Action: 'logs:Get*', Resource: '*' }] }`,
      )}    defaultScopes: [reports]\n`,
      "leasehold.yaml",
    );
    const [first] = config.targets;
    if (!first) throw new Error("expected a target");
    const target = asAwsRoleTarget(first);
    expect(target?.defaultScopes).toEqual(["reports"]);
    expect(target.scopes.map((s) => [s.name, s.aws.statements])).toEqual([
      [
        "reports",
        [
          {
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
          },
        ],
      ],
      ["logs", [{ Effect: "Allow", Action: "logs:Get*", Resource: "*" }]],
    ]);
  });

  it("refuses a scope allowing an action outside the target's allowedActions", () => {
    expect(
      problemsOf(
        awsTarget(ALLOWED, "      - name: admin\n        aws: { actions: ['s3:GetObject', 'iam:*'] }"),
      ),
    ).toMatch(/targets\[0\]\.scopes\[0\]\.aws: allows what the target's allowedActions do not: iam:\*/);
  });

  it("refuses a wildcard wider than the allowed one", () => {
    expect(
      problemsOf(awsTarget(ALLOWED, "      - name: all-s3\n        aws: { actions: ['s3:*'] }")),
    ).toMatch(/allowedActions do not: s3:\*/);
  });

  it("refuses a scope whose session policy STS would refuse for its size", () => {
    const resources = Array.from({ length: 60 }, (_, i) => `'arn:aws:s3:::bucket-number-${i}/*'`).join(", ");
    expect(
      problemsOf(
        awsTarget(
          ALLOWED,
          `      - name: big\n        aws: { actions: ['s3:GetObject'], resources: [${resources}] }`,
        ),
      ),
    ).toMatch(/scopes\[0\]\.aws: the session policy is \d+ characters; STS allows 2048/);
  });

  it.each([
    [
      "policy and actions together",
      "aws: { actions: ['s3:GetObject'], policy: { Statement: [{ Effect: Allow, Action: 's3:Get*', Resource: '*' }] } }",
      /either policy or actions/,
    ],
    ["a policy that is not JSON", "aws: { policy: '{not json' }", /policy is not valid JSON/],
    [
      "a statement naming a principal",
      "aws: { policy: { Statement: [{ Effect: Allow, Principal: '*', Action: 's3:Get*', Resource: '*' }] } }",
      /may not have Principal/,
    ],
    ["an action without a service", "aws: { actions: [GetObject] }", /an action is like s3:GetObject/],
    ["no aws block", "description: nothing", /scopes\[0\]\.aws: this field is required/],
  ])("refuses a scope with %s", (_name, body, message) => {
    expect(problemsOf(awsTarget("", `      - name: bad\n        ${body}`))).toMatch(message);
  });

  it("refuses a sessionPolicy beside scopes: AWS takes one session policy", () => {
    const policy =
      "      sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: Allow, Action: 's3:Get*', Resource: '*' }] }";
    expect(
      problemsOf(awsTarget(policy, "      - name: a\n        aws: { actions: ['s3:GetObject'] }")),
    ).toMatch(/aws\.sessionPolicy: a target with scopes narrows sessions with them/);
  });

  it("refuses a default scope the target does not offer", () => {
    const text = `${awsTarget("", "      - name: a\n        aws: { actions: ['s3:GetObject'] }")}    defaultScopes: [b]\n`;
    expect(problemsOf(text)).toMatch(/defaultScopes\[0\]: default scope b is not among the target's scopes/);
  });

  it("refuses default scopes that together make a session policy too large", () => {
    const resources = Array.from(
      { length: 22 },
      (_, i) => `'arn:aws:s3:::bucket-with-a-rather-long-name-${i}/*'`,
    ).join(", ");
    const scope = (name: string) =>
      `      - name: ${name}\n        aws: { actions: ['s3:GetObject'], resources: [${resources}] }`;
    const text = `${awsTarget("", `${scope("a")}\n${scope("b")}`)}    defaultScopes: [a, b]\n`;
    expect(problemsOf(text)).toMatch(
      /defaultScopes: the default scopes together: the session policy is \d+ characters/,
    );
  });

  it("refuses more than one default scope on a Vault target", () => {
    const text = `${head}  - id: orders
    kind: vault
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    vault: { path: database/creds/orders-readonly }
    scopes:
      - { name: a, vault: { path: database/creds/a } }
      - { name: b, vault: { path: database/creds/b } }
    defaultScopes: [a, b]
`;
    expect(problemsOf(text)).toMatch(/defaultScopes: a vault target reads one path/);
  });

  it("loads a Vault target's scopes as other credential paths, and refuses one without its path", () => {
    const vault = (scope: string) => `${head}  - id: orders
    kind: vault
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    vault: { path: database/creds/orders-readonly }
    scopes:
      - name: read-write
${scope}
`;
    const [target] = parseConfig(
      vault("        vault: { path: database/creds/orders-readwrite }"),
      "x",
    ).targets;
    if (!target) throw new Error("expected a target");
    expect(asVaultTarget(target).scopes[0]?.vault.path).toBe("database/creds/orders-readwrite");
    expect(problemsOf(vault("        vault: { path: 'secret/data/x' }"))).toMatch(
      /scopes\[0\]\.vault\.path: path is a Vault/,
    );
    expect(problemsOf(vault("        description: no path"))).toMatch(
      /scopes\[0\]\.vault: this field is required/,
    );
  });

  it("refuses a SQL scope whose statement leaves a placeholder unquoted", () => {
    const text = `${head}  - id: orders-db
    kind: sql
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    sql:
      engine: postgres
      adminUrlEnv: ORDERS_ADMIN_URL
      creationStatements: ["CREATE ROLE \\"{{name}}\\" LOGIN PASSWORD '{{password}}'"]
    scopes:
      - name: read-write
        sql: { creationStatements: ["CREATE ROLE {{name}} LOGIN PASSWORD '{{password}}'"] }
`;
    expect(problemsOf(text)).toMatch(
      /scopes\[0\]\.sql\.creationStatements\[0\]: \{\{name\}\} must be written inside "…"/,
    );
  });
});
