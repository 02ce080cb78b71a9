import type { Target } from "@leasehold/domain";
import type { ContextOf, PolicyQuery, PolicyResource } from "./engine.js";
import { decideWithInvariants } from "./explain.js";
import { actionContext } from "./policy-cases.js";
import { type NamedPrincipal, type PolicyWorld, principalUniverse } from "./policy-universe.js";
import type { Action } from "./schema.js";

/*
 * `leasehold policy diff`: who gains and who loses which access between two configurations, for a
 * pull request's reviewer. Both sides are asked the same questions, at the same time, with neutral
 * contexts: every principal either names, every target and rotation either has.
 */

/** The default time of the comparison: a Wednesday at noon UTC, inside any office hours. */
export const DIFF_TIME = new Date("2026-12-02T12:00:00Z");

/** One question asked of both sides: a labelled action and its context for a target. */
type Check = {
  readonly label: string;
  readonly action: Action;
  readonly context: (target: Target | undefined) => ContextOf[Action];
  readonly appliesTo: "Person" | "Workload" | "both";
};

const neutral =
  <A extends Action>(action: A, overrides: Partial<ContextOf[A]> = {}) =>
  (target: Target | undefined): ContextOf[Action] => ({ ...actionContext(action, target, {}), ...overrides });

const TARGET_CHECKS: readonly Check[] = [
  { label: "Request", action: "Request", context: neutral("Request"), appliesTo: "Person" },
  { label: "Approve", action: "Approve", context: neutral("Approve"), appliesTo: "Person" },
  { label: "BreakGlass", action: "BreakGlass", context: neutral("BreakGlass"), appliesTo: "Person" },
  {
    label: "AutoApprove (on call)",
    action: "AutoApprove",
    context: neutral("AutoApprove", { onCall: true }),
    appliesTo: "Person",
  },
  {
    label: "AutoApprove (pre-approved)",
    action: "AutoApprove",
    context: neutral("AutoApprove", { preApproved: true }),
    appliesTo: "Person",
  },
  { label: "Lease", action: "Lease", context: neutral("Lease"), appliesTo: "Workload" },
  { label: "Revoke (others' grants)", action: "Revoke", context: neutral("Revoke"), appliesTo: "both" },
];

/** Approve once a request reached `level`: asked only where a side has escalation levels. */
const escalatedCheck = (level: number): Check => ({
  label: `Approve (escalated to level ${level})`,
  action: "Approve",
  context: neutral("Approve", { escalationLevel: level }),
  appliesTo: "Person",
});

export type AccessChange = {
  readonly principal: string;
  readonly label: string;
  /** Each action, with the targets (or `audit`, or rotations) it changed on. */
  readonly actions: readonly { readonly action: string; readonly resources: readonly string[] }[];
};

export type AccessDiff = {
  readonly at: string;
  /** Allowed by the new configuration, not by the old. */
  readonly gains: readonly AccessChange[];
  /** Allowed by the old configuration, not by the new. */
  readonly losses: readonly AccessChange[];
  readonly principals: number;
  readonly decisions: number;
};

type Question = {
  check: Check;
  resourceId: string;
  resource: (world: PolicyWorld) => PolicyResource | undefined;
};

/** Every question: each target check on each target, ReadAudit, and Rotate on each rotation. */
function questions(old: PolicyWorld, next: PolicyWorld): Question[] {
  const targetIds = [...new Set([...old.targets, ...next.targets].map((t) => t.id))].sort();
  const out: Question[] = [];
  for (const id of targetIds) {
    const resource = (world: PolicyWorld): PolicyResource | undefined => {
      const target = world.targets.find((t) => t.id === id);
      return target ? { type: "Target", target } : undefined;
    };
    const levels = Math.max(
      ...[old, next].map((w) => w.targets.find((t) => t.id === id)?.escalation.length ?? 0),
    );
    const checks = levels > 0 ? [...TARGET_CHECKS, escalatedCheck(levels)] : TARGET_CHECKS;
    for (const check of checks) out.push({ check, resourceId: id, resource });
  }
  out.push({
    check: { label: "ReadAudit", action: "ReadAudit", context: neutral("ReadAudit"), appliesTo: "Person" },
    resourceId: "audit",
    resource: () => ({ type: "AuditTrail" }),
  });
  const rotationIds = [...new Set([...old.rotations, ...next.rotations].map((r) => r.id))].sort();
  for (const id of rotationIds) {
    out.push({
      check: { label: "Rotate", action: "Rotate", context: neutral("Rotate"), appliesTo: "Person" },
      resourceId: id,
      resource: (world) => (world.rotations.some((r) => r.id === id) ? { type: "Rotation", id } : undefined),
    });
  }
  return out;
}

/** Whether the world allows it; a target or rotation the world does not have allows nothing. */
function allows(world: PolicyWorld, who: NamedPrincipal, q: Question, now: Date): boolean {
  const resource = q.resource(world);
  if (!resource) return false;
  const target = resource.type === "Target" ? resource.target : undefined;
  const query: PolicyQuery<Action> = {
    action: q.check.action,
    principal: who.principal,
    resource,
    context: q.check.context(target),
    now,
  };
  return decideWithInvariants(world.engine, query).decision.allowed;
}

/** Groups "principal → action → resources" for the changes found, keeping the universe's order. */
function group(changes: readonly { who: NamedPrincipal; q: Question }[]): AccessChange[] {
  const byPrincipal = new Map<string, { who: NamedPrincipal; actions: Map<string, string[]> }>();
  for (const { who, q } of changes) {
    const entry = byPrincipal.get(who.key) ?? { who, actions: new Map<string, string[]>() };
    byPrincipal.set(who.key, entry);
    entry.actions.set(q.check.label, [...(entry.actions.get(q.check.label) ?? []), q.resourceId]);
  }
  return [...byPrincipal.values()].map(({ who, actions }) => ({
    principal: who.key,
    label: who.label,
    actions: [...actions].map(([action, resources]) => ({ action, resources })),
  }));
}

/** Who gains and who loses what between `old` and `next`, asked at `now` (default DIFF_TIME). */
export function diffAccess(old: PolicyWorld, next: PolicyWorld, now: Date = DIFF_TIME): AccessDiff {
  const universe = principalUniverse([old, next]);
  const gains: { who: NamedPrincipal; q: Question }[] = [];
  const losses: { who: NamedPrincipal; q: Question }[] = [];
  let decisions = 0;
  const all = questions(old, next);
  for (const who of universe) {
    const type = who.principal.kind === "human" ? "Person" : "Workload";
    for (const q of all) {
      if (q.check.appliesTo !== "both" && q.check.appliesTo !== type) continue;
      const before = allows(old, who, q, now);
      const after = allows(next, who, q, now);
      decisions += 2;
      if (after && !before) gains.push({ who, q });
      if (before && !after) losses.push({ who, q });
    }
  }
  return {
    at: now.toISOString(),
    gains: group(gains),
    losses: group(losses),
    principals: universe.length,
    decisions,
  };
}
