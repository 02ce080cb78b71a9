import { spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The policy commands as CI runs them: a real process on the repository's examples (so CI checks that
 * the example policies load and their cases pass), and on broken and changed copies of them.
 */
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = ["--conditions=@leasehold/source", "--import", "tsx", "apps/cli/src/main.ts"];
const EXAMPLES = join(repoRoot, "examples");

type Result = { code: number | null; stdout: string; stderr: string };

const run = (...args: string[]) =>
  new Promise<Result>((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: repoRoot,
      // No LEASEHOLD_URL: these commands never call the API.
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });

/** A copy of examples/ to change. */
const copyOfExamples = () => {
  const dir = mkdtempSync(join(tmpdir(), "lh-policy-"));
  cpSync(EXAMPLES, dir, { recursive: true });
  return dir;
};

describe("leasehold policy, offline", () => {
  it("validates the example configuration and passes its cases", async () => {
    const valid = await run("policy", "validate", "--config", "examples/leasehold.yaml");
    expect(valid, valid.stderr).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/is valid: \d+ policies/),
    });
    const tested = await run(
      "policy",
      "test",
      "examples/policies/tests.yaml",
      "--config",
      "examples",
      "--json",
    );
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    const report = JSON.parse(tested.stdout) as { passed: boolean; results: { passed: boolean }[] };
    expect(report.passed).toBe(true);
    expect(report.results.length).toBeGreaterThanOrEqual(10);
  });

  it("stops at invalid Cedar with exit 78, naming file, line, column and the fix", async () => {
    const dir = copyOfExamples();
    appendFileSync(
      join(dir, "policies", "auditors.cedar"),
      `\n@id("typo")\npermit (principal, action == Leasehold::Action::"ReadAudit", resource)\nwhen { context.weekdy == 1 };\n`,
    );
    const validate = await run("policy", "validate", "--config", dir, "--json");
    expect(validate.code).toBe(78);
    expect(JSON.parse(validate.stdout)).toEqual({
      valid: false,
      problems: [expect.stringMatching(/policies\/auditors\.cedar:11:8: .*weekdy.*did you mean `weekday`\?/)],
    });
    const test = await run("policy", "test", "examples/policies/tests.yaml", "--config", dir);
    expect(test).toMatchObject({ code: 78, stderr: expect.stringMatching(/auditors\.cedar:11:8/) });
  });

  it("fails a case that does not hold (exit 1) and refuses a malformed cases file (exit 78)", async () => {
    const dir = copyOfExamples();
    const cases = join(dir, "cases.yaml");
    writeFileSync(
      cases,
      "- name: engineers read the audit trail\n  principal: { id: dev@example.com, groups: [engineering] }\n  action: ReadAudit\n  expect: allow\n",
    );
    expect(await run("policy", "test", cases, "--config", dir)).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/FAIL {2}engineers read the audit trail\n {6}expected allow, got deny/),
    });
    writeFileSync(cases, "- name: no action\n  principal: { id: dev@example.com }\n  expect: sometimes\n");
    expect(await run("policy", "test", cases, "--config", dir)).toMatchObject({
      code: 78,
      stderr: expect.stringMatching(/cases\[0\]\.action: this field is required[\s\S]*cases\[0\]\.expect/),
    });
  });

  it("explains a refusal with the deciding policy, its place and advice (exit 1)", async () => {
    const result = await run(
      "policy",
      "explain",
      "dev@example.com",
      "Request",
      "prod-readonly",
      "--groups",
      "engineering",
      "--context",
      '{"now":"2026-12-05T10:00:00Z"}',
      "--config",
      "examples",
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(
      /^DENIED: dev@example\.com Request prod-readonly at 2026-12-05T10:00:00\.000Z/,
    );
    expect(result.stdout).toMatch(/office-hours\/prod-weekends \(forbid, policies\/office-hours\.cedar:3\)/);
    expect(result.stdout).toMatch(/advice: production is closed at weekends/);
    expect(result.stdout).toMatch(/permit target\/prod-readonly\/requesters \(leasehold\.yaml\): satisfied/);
  });

  it("diffs a sample change: an added approver is a gain, a new forbid a loss; --fail-on decides the exit", async () => {
    const dir = copyOfExamples();
    const config = join(dir, "leasehold.yaml");
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        "users: [alice@example.com]\n",
        "users: [alice@example.com, carol@example.com]\n",
      ),
    );
    writeFileSync(
      join(dir, "policies", "staging.cedar"),
      `@id("staging/no-engineering")\nforbid (principal in Leasehold::Group::"engineering", action == Leasehold::Action::"Request", resource)\nwhen { resource.environment == "staging" };\n`,
    );
    const diff = await run("policy", "diff", "examples", dir, "--json");
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({
      gains: [
        {
          principal: "carol@example.com",
          actions: [
            { action: "Approve", resources: ["prod-readonly"] },
            { action: "Approve (escalated to level 1)", resources: ["prod-readonly"] },
          ],
        },
      ],
      losses: [
        {
          principal: "member-of:engineering",
          label: "any member of group engineering",
          actions: [{ action: "Request", resources: ["staging-admin"] }],
        },
      ],
    });
    const failing = await run("policy", "diff", "examples", dir, "--fail-on", "losses");
    expect(failing).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/losses[^\n]*:\n {2}any member of group/),
    });
    expect(await run("policy", "diff", "examples", "examples", "--fail-on", "any")).toMatchObject({
      code: 0,
    });
  });

  it("lists who could approve a target now and after escalation", async () => {
    const result = await run("approvers", "prod-readonly", "--config", "examples/leasehold.yaml");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/as posted:\n {2}alice@example\.com[\s\S]*any member of group sre/);
    expect(result.stdout).toMatch(/after escalation to level 1:[\s\S]*head-of-infra@example\.com/);
    expect(await run("approvers", "nope", "--config", "examples")).toMatchObject({ code: 5 });
  });
});
