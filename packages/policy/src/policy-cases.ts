import type { Principal, Target } from "@leasehold/domain";
import type { ContextOf, PolicyEngine, PolicyQuery, PolicyResource, RequestDetails } from "./engine.js";
import { decideWithInvariants } from "./explain.js";
import {
  type CaseContext,
  type CasePrincipal,
  type PolicyCase,
  PolicyCaseError,
  type PolicyCasesFile,
} from "./policy-case-schema.js";
import { ACTION_SPECS, type Action } from "./schema.js";

/*
 * `leasehold policy test`: each case becomes the query the broker would ask, with the action's
 * neutral context where the case says nothing, and is decided by the same engine the broker uses,
 * invariants included.
 */

/** Who asked, when an Approve case names no requester: someone other than any approver. */
export const DEFAULT_REQUESTER = "requester@leasehold.invalid";

/** What the queries are decided against: leasehold.yaml's targets and rotations. */
export type CaseWorld = {
  readonly targets: readonly Target[];
  readonly rotations: readonly { readonly id: string }[];
};

/** A principal from a case: a workload when its kind says so or its id has a colon. */
export function casePrincipal(p: CasePrincipal): Principal {
  const workload = p.kind === "workload" || (p.kind === undefined && p.id.includes(":"));
  if (!workload)
    return { id: p.id, kind: "human", provider: p.provider ?? "test", subject: p.id, groups: p.groups };
  const colon = p.id.indexOf(":");
  const provider = p.provider ?? (colon > 0 ? p.id.slice(0, colon) : "test");
  const subject = colon > 0 ? p.id.slice(colon + 1) : p.id;
  return { id: p.id, kind: "workload", provider, subject, groups: p.groups, claims: p.claims };
}

/** The request details a person asks with: the target's default duration and empty text unless given. */
export const neutralRequest = (
  target: Target | undefined,
  given: CaseContext["request"] = {},
): RequestDetails => ({
  durationSeconds: given.durationSeconds ?? target?.defaultDurationSeconds ?? 3600,
  ticket: given.ticket ?? "",
  reason: given.reason ?? "",
  scopes: given.scopes ?? [],
});

/**
 * The action's whole context: neutral values (not on call, no incidents, not pre-approved, someone
 * else's request at escalation level 0, the holder extending, someone other than the holder revoking)
 * with the case's overrides on top.
 */
export function actionContext<A extends Action>(
  action: A,
  target: Target | undefined,
  given: CaseContext,
): ContextOf[A] {
  const defaultSeconds = target?.defaultDurationSeconds ?? 3600;
  const asking = {
    request: neutralRequest(target, given.request),
    onCall: given.onCall ?? false,
    incidents: given.incidents ?? [],
  };
  const contexts: { [K in Action]: ContextOf[K] } = {
    Request: asking,
    BreakGlass: asking,
    AutoApprove: { ...asking, preApproved: given.preApproved ?? false },
    Approve: {
      request: asking.request,
      requester: given.requester ?? DEFAULT_REQUESTER,
      approvals: given.approvals ?? [],
      escalationLevel: given.escalationLevel ?? 0,
    },
    Lease: { ttlSeconds: given.ttlSeconds ?? defaultSeconds },
    Extend: { holder: given.holder ?? true, extendBySeconds: given.extendBySeconds ?? defaultSeconds },
    Revoke: { holder: given.holder ?? false },
    ReadAudit: {},
    Rotate: {},
  };
  return contexts[action];
}

/** Context fields the case sets that the action's context does not have: a mistake worth a clear error. */
function foreignFields(action: Action, given: CaseContext): string[] {
  const own = ACTION_SPECS[action].context;
  return Object.keys(given).filter((key) => key !== "now" && !(key in own));
}

/** The resource a case names, checked against the configuration. */
function caseResource(c: PolicyCase, world: CaseWorld): { resource: PolicyResource; target?: Target } {
  const named = c.target ?? c.resource;
  const kind = ACTION_SPECS[c.action].resource;
  if (kind === "AuditTrail") {
    if (named !== undefined && named !== "audit") {
      throw new PolicyCaseError([
        `case "${c.name}": ${c.action} is about the audit trail: target "audit" or none`,
      ]);
    }
    return { resource: { type: "AuditTrail" } };
  }
  if (named === undefined) throw new PolicyCaseError([`case "${c.name}": name the target of ${c.action}`]);
  if (kind === "Rotation") {
    if (!world.rotations.some((r) => r.id === named)) {
      throw new PolicyCaseError([`case "${c.name}": leasehold.yaml has no rotation "${named}"`]);
    }
    return { resource: { type: "Rotation", id: named } };
  }
  const target = world.targets.find((t) => t.id === named);
  if (!target) throw new PolicyCaseError([`case "${c.name}": leasehold.yaml has no target "${named}"`]);
  return { resource: { type: "Target", target }, target };
}

/** The query a case asks; `now` is its time when it names none. */
export function caseQuery(c: PolicyCase, world: CaseWorld, now: Date): PolicyQuery<Action> {
  const foreign = foreignFields(c.action, c.context);
  if (foreign.length > 0) {
    const own = Object.keys(ACTION_SPECS[c.action].context).filter((k) => !["weekday", "hour"].includes(k));
    throw new PolicyCaseError([
      `case "${c.name}": ${foreign.map((f) => `context.${f}`).join(", ")} is not part of ${c.action}'s context (it has ${own.join(", ")})`,
    ]);
  }
  const { resource, target } = caseResource(c, world);
  return {
    action: c.action,
    principal: casePrincipal(c.principal),
    resource,
    context: actionContext(c.action, target, c.context),
    now: c.context.now ? new Date(c.context.now) : now,
  };
}

export type CaseResult = {
  readonly name: string;
  readonly passed: boolean;
  readonly expected: "allow" | "deny";
  readonly allowed: boolean;
  /** The policies that decided. */
  readonly policies: readonly string[];
  readonly advice: readonly string[];
  /** An invariant that decided instead of the policies. */
  readonly invariant: string | undefined;
  /** What differs from the expectation; empty when the case passed. */
  readonly problems: readonly string[];
};

const sorted = (ids: readonly string[]) => [...ids].sort();

/**
 * Runs every case. Every case's query is built first, so a case that cannot be asked (an unknown
 * target, a field the action does not have) stops the run with a PolicyCaseError before any result.
 */
export function runPolicyCases(
  engine: PolicyEngine,
  file: PolicyCasesFile,
  world: CaseWorld,
  now: Date,
): CaseResult[] {
  const fileNow = file.now ? new Date(file.now) : now;
  const problems: string[] = [];
  const asked = file.cases.flatMap((c) => {
    try {
      return [{ c, query: caseQuery(c, world, fileNow) }];
    } catch (error) {
      if (!(error instanceof PolicyCaseError)) throw error;
      problems.push(...error.problems);
      return [];
    }
  });
  if (problems.length > 0) throw new PolicyCaseError(problems);
  return asked.map(({ c, query }) => {
    const { decision, invariant } = decideWithInvariants(engine, query);
    const mismatches: string[] = [];
    const got = decision.allowed ? "allow" : "deny";
    if (got !== c.expect) mismatches.push(`expected ${c.expect}, got ${got}`);
    if (c.policies && sorted(c.policies).join(",") !== sorted(decision.policies).join(",")) {
      mismatches.push(
        `expected policies [${sorted(c.policies).join(", ")}] to decide, got [${sorted(decision.policies).join(", ")}]`,
      );
    }
    return {
      name: c.name,
      passed: mismatches.length === 0,
      expected: c.expect,
      allowed: decision.allowed,
      policies: decision.policies,
      advice: decision.advice,
      invariant,
      problems: mismatches,
    };
  });
}
