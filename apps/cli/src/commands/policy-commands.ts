import {
  ACTIONS,
  approversOf,
  caseContextSchema,
  caseQuery,
  cedarSchema,
  DIFF_TIME,
  diffAccess,
  explainQuery,
  PolicyCaseError,
  parsePolicyCases,
  policyCaseSchema,
  runPolicyCases,
} from "@leasehold/policy";
import { type CliContext, type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { checkPolicyConfig, configFileAt, loadPolicyConfig, readDataFile } from "../policy-config.js";
import { renderApprovers, renderCaseResults, renderDiff, renderExplanation } from "../policy-render.js";

/*
 * Policy tooling for people and CI: read leasehold.yaml and its Cedar files, never the API. Exit codes:
 * 0 as expected, 1 a case failed / denied / a --fail-on change, 2 usage, 78 invalid configuration,
 * policies or cases.
 */

const configOf = (ctx: CliContext, values: Record<string, unknown>) =>
  option(values, "config") ?? ctx.env.configFile;

function validate(ctx: CliContext, values: Record<string, unknown>): number {
  const path = configOf(ctx, values);
  const checked = checkPolicyConfig(path);
  if (!checked.ok) {
    ctx.print(
      `${configFileAt(path)} or its policies are not valid:\n${checked.problems.map((p) => `  - ${p}`).join("\n")}`,
      { valid: false, problems: checked.problems },
    );
    return EXIT.config;
  }
  const policies = checked.loaded.engine.policies;
  const files = [...new Set(policies.map((p) => p.file))];
  ctx.print(`${checked.loaded.path} is valid: ${policies.length} policies from ${files.join(", ")}`, {
    valid: true,
    policies: policies.map(({ id, effect, file, line }) => ({ id, effect, file, line })),
  });
  return EXIT.ok;
}

/** A PolicyCaseError as exit 78, naming the file. */
const invalidCases = (path: string, error: PolicyCaseError) =>
  new CliError(`${path} is not valid:\n${error.problems.map((p) => `  - ${p}`).join("\n")}`, EXIT.config);

function test(ctx: CliContext, positionals: string[], values: Record<string, unknown>): number {
  const casesPath = required(positionals, 2, "the cases file (YAML or JSON)");
  const { world } = loadPolicyConfig(configOf(ctx, values));
  try {
    const file = parsePolicyCases(readDataFile(casesPath));
    const results = runPolicyCases(world.engine, file, world, new Date());
    ctx.print(renderCaseResults(results), { passed: results.every((r) => r.passed), results });
    return results.every((r) => r.passed) ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (error instanceof PolicyCaseError) throw invalidCases(casesPath, error);
    throw error;
  }
}

/** `k=v,k=v`, for a workload's claims. */
function claimsOf(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  return Object.fromEntries(
    text.split(",").map((pair) => {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new CliError("--claims takes name=value pairs separated by commas", EXIT.usage);
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
    }),
  );
}

function contextOf(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`--context takes a JSON object, like '{"onCall":true}'`, EXIT.usage);
  }
}

function explain(ctx: CliContext, positionals: string[], values: Record<string, unknown>): number {
  const workload = option(values, "workload");
  const args = workload ? [workload, ...positionals.slice(2)] : positionals.slice(2);
  const usage = `usage: ${policyCommand.usage}`;
  if (args.length !== 3)
    throw new CliError(`policy explain takes <who> <action> <target>\n${usage}`, EXIT.usage);
  const [who, action, target] = args;
  const groups = option(values, "groups");
  const parsed = policyCaseSchema.safeParse({
    name: "explain",
    principal: {
      id: who,
      ...(workload ? { kind: "workload" } : {}),
      groups: groups ? groups.split(",").map((g) => g.trim()) : [],
      claims: claimsOf(option(values, "claims")),
    },
    action,
    target,
    context: contextOf(option(values, "context")),
    expect: "allow",
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    const actions = problems.some((p) => p.startsWith("action")) ? `; actions: ${ACTIONS.join(", ")}` : "";
    throw new CliError(`${problems.join("; ")}${actions}`, EXIT.usage);
  }
  const { world } = loadPolicyConfig(configOf(ctx, values));
  let query: ReturnType<typeof caseQuery>;
  try {
    query = caseQuery(parsed.data, world, new Date());
  } catch (error) {
    if (error instanceof PolicyCaseError) throw new CliError(error.problems.join("; "), EXIT.usage);
    throw error;
  }
  const explanation = explainQuery(world.engine, query);
  const question = `${query.principal.id} ${query.action} ${target} at ${query.now.toISOString()}`;
  ctx.print(renderExplanation(question, explanation), { ...explanation, at: query.now.toISOString() });
  return explanation.decision.allowed ? EXIT.ok : EXIT.failure;
}

const FAIL_ON = ["gains", "losses", "any"] as const;

function diff(ctx: CliContext, positionals: string[], values: Record<string, unknown>): number {
  const oldPath = required(positionals, 2, "the old leasehold.yaml (or its directory)");
  const newPath = required(positionals, 3, "the new leasehold.yaml (or its directory)");
  const failOn = option(values, "fail-on");
  if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn)) {
    throw new CliError(`--fail-on takes ${FAIL_ON.join(", ")}`, EXIT.usage);
  }
  const atText = option(values, "at");
  const atParsed = caseContextSchema.shape.now.safeParse(atText);
  if (!atParsed.success) throw new CliError("--at takes an ISO time like 2026-12-07T10:30:00Z", EXIT.usage);
  const at = atParsed.data === undefined ? DIFF_TIME : new Date(atParsed.data);
  const before = loadPolicyConfig(oldPath);
  const after = loadPolicyConfig(newPath);
  const result = diffAccess(before.world, after.world, at);
  ctx.print(renderDiff(before.path, after.path, result), result);
  const gained = result.gains.length > 0;
  const lost = result.losses.length > 0;
  const fails =
    (failOn === "gains" && gained) || (failOn === "losses" && lost) || (failOn === "any" && (gained || lost));
  return fails ? EXIT.failure : EXIT.ok;
}

export const policyCommand: Command = {
  name: "policy",
  usage: [
    "leasehold policy schema",
    "       leasehold policy validate [--config leasehold.yaml]",
    "       leasehold policy test <cases.yaml|json> [--config leasehold.yaml]",
    "       leasehold policy explain <who> <action> <target> [--groups a,b] [--claims k=v,..] [--context JSON]",
    "       leasehold policy explain --workload <provider:subject> <action> <target> [--claims k=v,..]",
    "       leasehold policy diff <old leasehold.yaml|dir> <new leasehold.yaml|dir> [--fail-on gains|losses|any] [--at ISO]",
  ].join("\n"),
  summary: "check, test and explain the Cedar policies offline; diff who gains and loses access (CI)",
  options: {
    config: { type: "string" },
    groups: { type: "string" },
    claims: { type: "string" },
    workload: { type: "string" },
    context: { type: "string" },
    "fail-on": { type: "string" },
    at: { type: "string" },
  },
  async run(ctx, { positionals, values }) {
    switch (positionals[1]) {
      case "schema":
        ctx.print(cedarSchema().trimEnd(), { schema: cedarSchema() });
        return EXIT.ok;
      case "validate":
        return validate(ctx, values);
      case "test":
        return test(ctx, positionals, values);
      case "explain":
        return explain(ctx, positionals, values);
      case "diff":
        return diff(ctx, positionals, values);
      default:
        throw new CliError(
          `say policy schema, validate, test, explain or diff\nusage: ${this.usage}`,
          EXIT.usage,
        );
    }
  },
};

export const approversCommand: Command = {
  name: "approvers",
  usage: "leasehold approvers <target> [--config leasehold.yaml]",
  summary: "who could approve a request for the target now, and after each escalation (offline)",
  options: { config: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const targetId = required(positionals, 1, "the target");
    const { world } = loadPolicyConfig(configOf(ctx, values));
    const result = approversOf(world, targetId, new Date());
    if (!result) throw new CliError(`leasehold.yaml has no target "${targetId}"`, EXIT.notFound);
    ctx.print(renderApprovers(result), result);
    return EXIT.ok;
  },
};
