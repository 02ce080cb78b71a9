import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { loadConfigFile, parseConfig } from "./load-config.js";

const examplePath = fileURLToPath(new URL("../../../leasehold.example.yaml", import.meta.url));

const minimal = `
identityProviders:
  - name: corp
    issuer: https://login.example.com
    audience: leasehold
targets:
  - id: prod
    kind: aws-role
    requesters: { groups: [eng] }
    approvers: { groups: [sre] }
    requiredApprovals: 2
    maxDuration: 1h
    aws:
      roleArn: arn:aws:iam::123456789012:role/Prod
`;

const problemsOf = (text: string): string => {
  try {
    parseConfig(text, "leasehold.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected the configuration to be refused");
};

describe("leasehold.yaml", () => {
  it("the shipped example is valid", () => {
    const config = loadConfigFile(examplePath);
    expect(config.targets[0]).toMatchObject({
      id: "prod-readonly",
      maxDurationSeconds: 14_400,
      requiredApprovals: 2,
    });
    expect(config.identityProviders[0]).toMatchObject({
      name: "corp",
      clockSkew: 30,
      requireVerifiedEmail: true,
      maxTokenLifetime: 86_400,
    });
  });

  it("reads a target's escalation levels and says what to fix in them", () => {
    expect(loadConfigFile(examplePath).targets[0]).toMatchObject({
      escalateAfterSeconds: 7200,
      escalation: [
        { approvers: { groups: ["sre-leads"] }, slackChannel: "C0SRELEADS" },
        { approvers: { users: ["head-of-infra@example.com"] } },
      ],
    });
    const escalating = (after: string) =>
      minimal.replace(
        "    maxDuration: 1h\n",
        `    maxDuration: 1h\n    pendingTtl: 1h\n    escalateAfter: ${after}\n    escalation:\n      - approvers: { groups: [leads] }\n`,
      );
    expect(parseConfig(escalating("30m"), "leasehold.yaml").targets[0]?.escalateAfterSeconds).toBe(1800);
    expect(problemsOf(escalating("1h"))).toMatch(/targets\[0\]\.escalateAfter.*shorter than pendingTtl/);
  });

  it("bounds an identity provider's maxTokenLifetime between 1m and 31d", () => {
    const withLifetime = (value: string) =>
      minimal.replace(
        "    audience: leasehold\n",
        `    audience: leasehold\n    maxTokenLifetime: ${value}\n`,
      );
    expect(parseConfig(withLifetime("12h"), "leasehold.yaml").identityProviders[0]?.maxTokenLifetime).toBe(
      43_200,
    );
    expect(parseConfig(minimal, "leasehold.yaml").identityProviders[0]?.maxTokenLifetime).toBeUndefined();
    expect(problemsOf(withLifetime("30s"))).toMatch(/maxTokenLifetime: maxTokenLifetime must be at least 1m/);
    expect(problemsOf(withLifetime("32d"))).toMatch(/maxTokenLifetime: .*not a duration between 1s and 31d/);
  });

  it("fills in safe caps and rate limits, and takes and bounds configured ones", () => {
    expect(parseConfig(minimal, "leasehold.yaml").limits).toEqual({
      pendingRequests: 10,
      activeGrants: 10,
      activeLeases: 50,
      rates: { window: 60, requests: 10, leases: 60, revocations: 60 },
    });
    const withLimits = (limits: string) => `${minimal}limits:\n${limits}`;
    const set = parseConfig(
      withLimits("  pendingRequests: 3\n  rates:\n    window: 10s\n    leases: 5\n"),
      "leasehold.yaml",
    ).limits;
    expect(set.pendingRequests).toBe(3);
    expect(set.activeGrants).toBe(10);
    expect(set.rates).toEqual({ window: 10, requests: 10, leases: 5, revocations: 60 });
    expect(problemsOf(withLimits("  activeLeases: 0\n"))).toMatch(/limits\.activeLeases/);
    expect(problemsOf(withLimits("  rates:\n    window: 2h\n"))).toMatch(/rates.window must be at most 1h/);
    expect(problemsOf(withLimits("  perMinute: 5\n"))).toMatch(/perMinute/);
  });

  it("refuses a principal id that is a look-alike of another person's email", () => {
    expect(
      problemsOf(
        minimal.replace("requesters: { groups: [eng] }", 'requesters: { users: ["\u212Aevin@example.com"] }'),
      ),
    ).toMatch(/targets\[0\]\.requesters\.users\[0\]: .*NFKC/);
    expect(
      problemsOf(
        minimal.replace("requesters: { groups: [eng] }", "requesters: { users: [kеvin@example.com] }"),
      ),
    ).toMatch(/not an email of ASCII/);
  });

  it("names the file when it is missing", () => {
    expect(() => loadConfigFile("/nonexistent/leasehold.yaml")).toThrow(
      /\/nonexistent\/leasehold.yaml[\s\S]*does not exist; set LEASEHOLD_CONFIG/,
    );
  });

  it("reports invalid YAML with its line", () => {
    expect(problemsOf("targets:\n  - id: [unclosed\n")).toMatch(
      /leasehold.yaml is not valid[\s\S]*line \d+.*not valid YAML/,
    );
  });

  it("refuses a repeated key instead of silently keeping the last one", () => {
    expect(
      problemsOf(
        `${minimal}    requiredApprovals: 1\n`.replace(
          "maxDuration: 1h\n",
          "maxDuration: 1h\n    maxDuration: 12h\n",
        ),
      ),
    ).toMatch(/not valid YAML/);
  });

  it("points at the line and field of a bad value and says what is expected", () => {
    const message = problemsOf(minimal.replace("maxDuration: 1h", "maxDuration: forever"));
    expect(message).toMatch(
      /line 12, targets\[0\]\.maxDuration: "forever" is not a duration between 1s and 31d; write it like 90s/,
    );
  });

  it("names a misspelled field", () => {
    const message = problemsOf(minimal.replace("maxDuration: 1h", "maxDuraton: 1h"));
    expect(message).toMatch(/line 7, targets\[0\]: unknown field "maxDuraton"; check the spelling/);
    expect(message).toMatch(/targets\[0\]\.maxDuration: this field is required/);
  });

  it("refuses duplicate target ids", () => {
    const twice = `${minimal}${minimal.slice(minimal.indexOf("  - id: prod"))}`;
    expect(problemsOf(twice)).toMatch(/targets\[1\]: target id "prod" appears twice/);
  });

  it("refuses an identity provider issuer that is not a URL", () => {
    expect(problemsOf(minimal.replace("https://login.example.com", "login.example.com"))).toMatch(
      /identityProviders\[0\]\.issuer: issuer must be an http\(s\) URL/,
    );
  });

  it("refuses a file without identity providers", () => {
    expect(problemsOf("targets: []\n")).toMatch(/identityProviders: this field is required/);
  });

  it("loads from disk and reports the path given", () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-config-"));
    const path = join(dir, "leasehold.yaml");
    writeFileSync(path, minimal.replace("kind: aws-role", "kind: gcp-role"));
    expect(() => loadConfigFile(path)).toThrow(
      new RegExp(`${path} is not valid[\\s\\S]*targets\\[0\\]\\.kind`),
    );
  });
});
