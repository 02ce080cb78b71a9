import {
  type AccessChange,
  type AccessDiff,
  type CaseResult,
  type Explanation,
  type PolicyVerdict,
  type TargetApprovers,
  TRANSLATED_FILE,
} from "@leasehold/policy";

/*
 * The human text of the policy commands (their --json output is the data itself). Pure, so the
 * wording is tested without a process.
 */

/** Where a policy was written: a file and line, or leasehold.yaml (translated lists have no line there). */
export const whereOf = (p: { file: string; line: number }): string =>
  p.file === TRANSLATED_FILE ? TRANSLATED_FILE : `${p.file}:${p.line}`;

const verdictWord = (v: PolicyVerdict): string =>
  v.satisfied === "error"
    ? `ERROR (${v.error ?? "evaluation failed"})`
    : v.satisfied
      ? "satisfied"
      : "not satisfied";

/** `policy explain`: the decision, the deciding policies and their advice, then every policy of the action. */
export function renderExplanation(question: string, explanation: Explanation): string {
  const { decision, invariant, verdicts } = explanation;
  const byId = new Map(verdicts.map((v) => [v.id, v]));
  const lines = [`${decision.allowed ? "ALLOWED" : "DENIED"}: ${question}`];
  if (invariant) lines.push(`  by an invariant no policy can change: ${invariant}`);
  if (decision.policies.length > 0) {
    lines.push("  decided by:");
    for (const id of decision.policies) {
      const v = byId.get(id);
      lines.push(`    ${id}${v ? ` (${v.effect}, ${whereOf(v)})` : ""}`);
    }
  } else if (!decision.allowed && !invariant) {
    lines.push("  no policy permits it (Cedar denies by default)");
  }
  for (const advice of decision.advice) lines.push(`  advice: ${advice}`);
  if (verdicts.length > 0) {
    lines.push("  every policy that mentions the action, asked alone:");
    for (const v of verdicts) {
      const mark = v.deciding ? "*" : " ";
      lines.push(`  ${mark} ${v.effect.padEnd(6)} ${v.id} (${whereOf(v)}): ${verdictWord(v)}`);
      if (v.advice && v.satisfied !== false) lines.push(`           @advice: ${v.advice}`);
    }
  }
  return lines.join("\n");
}

/** `policy test`: one line per case, what differs under a failed one, and the count. */
export function renderCaseResults(results: readonly CaseResult[]): string {
  const lines = results.flatMap((r) => [
    `${r.passed ? "pass" : "FAIL"}  ${r.name}`,
    ...r.problems.map((p) => `      ${p}`),
    ...(!r.passed && r.advice.length > 0 ? [`      advice: ${r.advice.join("; ")}`] : []),
    ...(!r.passed && r.invariant ? [`      invariant: ${r.invariant}`] : []),
  ]);
  const failed = results.filter((r) => !r.passed).length;
  lines.push(failed === 0 ? `all ${results.length} cases pass` : `${failed} of ${results.length} cases FAIL`);
  return lines.join("\n");
}

function renderChanges(title: string, changes: readonly AccessChange[]): string[] {
  if (changes.length === 0) return [`${title}: none`];
  return [
    `${title}:`,
    ...changes.flatMap((c) => [
      `  ${c.label === c.principal ? c.label : `${c.label} (${c.principal})`}`,
      ...c.actions.map((a) => `    ${a.action}: ${a.resources.join(", ")}`),
    ]),
  ];
}

/** `policy diff`: gains, then losses, grouped principal → action → targets. */
export function renderDiff(oldPath: string, newPath: string, diff: AccessDiff): string {
  return [
    `access from ${oldPath} to ${newPath} (${diff.principals} principals, asked at ${diff.at})`,
    ...renderChanges("gains (allowed by the new configuration, not by the old)", diff.gains),
    ...renderChanges("losses (allowed by the old configuration, not by the new)", diff.losses),
  ].join("\n");
}

/** `approvers`: who could approve at each level, with the policies that let them. */
export function renderApprovers(result: TargetApprovers): string {
  const lines = [
    `${result.target}: ${result.requiredApprovals} distinct approval(s) needed; the requester never counts`,
  ];
  for (const level of result.levels) {
    lines.push(level.level === 0 ? "as posted:" : `after escalation to level ${level.level}:`);
    if (level.people.length + level.groups.length === 0) lines.push("  nobody");
    for (const p of level.people) lines.push(`  ${p.id} (${p.policies.join(", ")})`);
    for (const g of level.groups) lines.push(`  any member of group ${g.id} (${g.policies.join(", ")})`);
  }
  return lines.join("\n");
}
