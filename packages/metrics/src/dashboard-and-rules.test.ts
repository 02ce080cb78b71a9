import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { METRIC_CATALOG } from "./metric-catalog.js";
import { createAppMetrics } from "./prometheus-metrics.js";

/**
 * The dashboard, the alert rules and the README's metrics table name the metrics the code exports:
 * a renamed metric, or a panel or rule over a metric that does not exist, fails here.
 */
const repo = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), "utf8");

type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };
type RuleFile = { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };

const dashboardExpressions = (): string[] => {
  const walk = (panels: readonly Panel[]): string[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : [])),
      ...walk(p.panels ?? []),
    ]);
  return walk((JSON.parse(repo("infra/grafana/leasehold-dashboard.json")) as { panels: Panel[] }).panels);
};
const ruleExpressions = (): string[] =>
  (parse(repo("infra/prometheus/alerts.yaml")) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.expr));

/** Metric names in PromQL: identifiers before `{`, `)`, `[`, a space, or the end (not label names or functions). */
const namesIn = (expr: string): string[] =>
  [...expr.matchAll(/\b((?:leasehold|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1] ?? "");

/** What a registry exposes, histogram series included (`_bucket`, `_sum`, `_count`). */
async function exportedSeriesNames(): Promise<Set<string>> {
  const app = createAppMetrics({
    app: "test",
    snapshot: async () => ({ grants: [], requests: [], revocationDebt: [], queueDepths: [], rotations: [] }),
  });
  const names = new Set<string>();
  for (const metric of await app.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === "histogram")
      for (const s of ["_bucket", "_sum", "_count"]) names.add(metric.name + s);
    if (String(metric.type) === "summary") for (const s of ["_sum", "_count"]) names.add(metric.name + s);
  }
  return names;
}

const declared = Object.values(METRIC_CATALOG).map((m) => m.name);

describe("the dashboard and the alert rules", () => {
  it("name only metrics the apps export", async () => {
    const exported = await exportedSeriesNames();
    const named = [...dashboardExpressions(), ...ruleExpressions()].flatMap(namesIn);
    expect(named.length).toBeGreaterThan(20);
    expect([...new Set(named.filter((n) => !exported.has(n)))]).toEqual([]);
  });

  it("the dashboard shows every declared metric", () => {
    const shown = new Set(
      dashboardExpressions()
        .flatMap(namesIn)
        .map((n) => n.replace(/_(bucket|sum|count)$/, "")),
    );
    expect(declared.filter((name) => !shown.has(name))).toEqual([]);
  });

  it("the rules cover what the issue asks to alert on", () => {
    const rules = ruleExpressions().join("\n");
    for (const name of [
      "leasehold_revocation_debt_grants",
      "leasehold_expiry_lateness_seconds_bucket",
      "leasehold_sweep_interval_seconds",
      "leasehold_audit_sink_lag_seconds",
      "leasehold_rotation_last_run_failed",
      "leasehold_rotation_last_success_age_seconds",
      "leasehold_iam_inline_policy_budget_ratio",
    ]) {
      expect(rules).toContain(name);
    }
  });
});

describe("the README's metrics table", () => {
  it("documents every declared metric, and no other", () => {
    const readme = repo("README.md");
    const start = readme.indexOf("<!-- metrics-reference:start -->");
    const end = readme.indexOf("<!-- metrics-reference:end -->");
    expect(start).toBeGreaterThan(-1);
    const documented = readme
      .slice(start, end)
      .split("\n")
      .map((line) => /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(documented.sort()).toEqual([...declared].sort());
  });
});
