import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { loadConfigFile } from "./load-config.js";
import { loadPolicyEngine } from "./policy-files.js";

/*
 * Policy files as a process finds them at start: named by leasehold.yaml's `policies`, relative to it.
 * Anything wrong is a ConfigError (the apps exit 78) naming the file, line and column, or the path.
 */

const yaml = (policies: string) => `
identityProviders:
  - name: corp
    issuer: https://login.example.com
    audience: leasehold
policies: ${policies}
targets:
  - id: prod
    kind: aws-role
    environment: prod
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    aws:
      roleArn: arn:aws:iam::123456789012:role/Prod
`;

/** A directory with leasehold.yaml and the given files under policies/. */
function configDir(policies: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "leasehold-policies-"));
  mkdirSync(join(dir, "policies"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "policies", name), text);
  writeFileSync(join(dir, "leasehold.yaml"), yaml(policies));
  return dir;
}

const load = (dir: string) => loadPolicyEngine(loadConfigFile(join(dir, "leasehold.yaml")), dir);

const problems = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
};

describe("policy files named by leasehold.yaml", () => {
  it("reads every .cedar file of a directory, in name order, with leasehold.yaml's lists", () => {
    const dir = configDir("[policies]", {
      "b.cedar": `@id("b")\nforbid (principal, action == Leasehold::Action::"Request", resource)\nwhen { context.hour < 6 };\n`,
      "a.cedar": `@id("a")\npermit (principal in Leasehold::Group::"sre", action == Leasehold::Action::"ReadAudit", resource);\n`,
      "notes.txt": "not a policy",
    });
    const ids = load(dir).policies.map((p) => p.id);
    expect(ids).toContain("target/prod/requesters");
    expect(ids.filter((id) => id === "a" || id === "b")).toEqual(["a", "b"]);
  });

  it("stops on invalid Cedar, naming the file (relative to leasehold.yaml), line and column", () => {
    const dir = configDir("[policies/bad.cedar]", {
      "bad.cedar": `@id("typo")\nforbid (principal, action == Leasehold::Action::"Request", resource)\nwhen { resource.enviroment == "prod" };\n`,
    });
    expect(problems(() => load(dir))).toMatch(
      /a policy file is not valid:\n {2}- policies\/bad\.cedar:3:\d+: .*enviroment/,
    );
  });

  it("stops on a path that does not exist", () => {
    const dir = configDir("[policies/missing.cedar]", {});
    expect(problems(() => load(dir))).toMatch(/policies: policies\/missing\.cedar does not exist/);
  });
});
