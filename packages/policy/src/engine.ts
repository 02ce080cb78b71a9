import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Principal, PrincipalSet, Target } from "@leasehold/domain";
import { cedarRequest, type PolicyResource } from "./cedar-request.js";
import { type LoadedPolicy, loadPolicies, type PolicySource } from "./policy-set.js";
import { ACTION_SPECS, type Action, cedarSchema } from "./schema.js";
import { translateConfig } from "./translate.js";

/** What a person asked for, as policies see it. */
export type RequestDetails = {
  readonly durationSeconds: number;
  readonly ticket: string;
  readonly reason: string;
  readonly scopes: readonly string[];
};

type Asking = { request: RequestDetails; onCall: boolean; incidents: readonly string[] };

/** The facts each action's context carries besides the time (see schema.ts). */
export type ContextOf = {
  Request: Asking;
  BreakGlass: Asking;
  AutoApprove: Asking & { preApproved: boolean };
  Approve: {
    request: RequestDetails;
    requester: string;
    approvals: readonly string[];
    escalationLevel: number;
  };
  Lease: { ttlSeconds: number };
  Extend: { holder: boolean; extendBySeconds: number };
  Revoke: { holder: boolean };
  ReadAudit: Record<string, never>;
  Rotate: Record<string, never>;
};

export type { PolicyResource };

export type PolicyQuery<A extends Action> = {
  readonly action: A;
  readonly principal: Principal;
  readonly resource: PolicyResource;
  readonly context: ContextOf[A];
  readonly now: Date;
};

export type PolicyDecision = {
  readonly allowed: boolean;
  /**
   * The policies that decided: the permits that allowed it, or the forbids that refused it (empty when
   * nothing permitted it).
   */
  readonly policies: readonly string[];
  /** The deciding forbids' `@advice` annotations: what the refused person can do about it. */
  readonly advice: readonly string[];
};

export type PolicyEngine = {
  readonly policies: readonly LoadedPolicy[];
  decide<A extends Action>(query: PolicyQuery<A>): PolicyDecision;
};

const SCHEMA_NAME = "leasehold";
let preparsedSchema = false;
let policySetCount = 0;

/**
 * Cedar reads every policy of a set for every decision, so a decision about one target is asked of
 * that target's slice only: the policies whose scope names it (`resource == Target::"x"`) and those
 * that name no single target. A policy pinned to another target can never match, so the answer is the
 * same; with 500 targets it is about 2,000 policies fewer. Slices are parsed once, on first use.
 */
function policySlices(policies: readonly LoadedPolicy[]): (targetId: string | undefined) => string {
  const prefix = `set-${++policySetCount}`;
  const unpinned = policies.filter((p) => p.target === undefined);
  const pinned = new Map<string, LoadedPolicy[]>();
  for (const policy of policies) {
    if (policy.target !== undefined)
      pinned.set(policy.target, [...(pinned.get(policy.target) ?? []), policy]);
  }
  const parsed = new Set<string>();
  return (targetId) => {
    const own = targetId === undefined ? undefined : pinned.get(targetId);
    const id = own === undefined ? prefix : `${prefix}/${targetId}`;
    if (!parsed.has(id)) {
      const slice = [...unpinned, ...(own ?? [])];
      const answer = cedar.preparsePolicySet(id, {
        staticPolicies: Object.fromEntries(slice.map((p) => [p.id, p.text])),
      });
      if (answer.type === "failure") throw new Error(`policies failed to load: ${answer.errors[0]?.message}`);
      parsed.add(id);
    }
    return id;
  };
}

/**
 * Loads the sources against Leasehold's schema and returns the engine that decides with them. Throws
 * PolicyLoadError naming file, line and column of every problem.
 */
export function createPolicyEngine(sources: readonly PolicySource[]): PolicyEngine {
  const schema = cedarSchema();
  const policies = loadPolicies(schema, sources);
  if (!preparsedSchema) {
    const answer = cedar.preparseSchema(SCHEMA_NAME, schema);
    if (answer.type === "failure")
      throw new Error(`Leasehold's own Cedar schema does not parse: ${answer.errors[0]?.message}`);
    preparsedSchema = true;
  }
  const byId = new Map(policies.map((p) => [p.id, p]));
  const setFor = policySlices(policies);

  /** Cedar's answer to one question, read as Leasehold reads it (a broken forbid refuses). */
  const ask = <A extends Action>(query: PolicyQuery<A>): PolicyDecision => {
    const answer = cedar.statefulIsAuthorized({
      ...cedarRequest(query),
      preparsedSchemaName: SCHEMA_NAME,
      preparsedPolicySetId: setFor(query.resource.type === "Target" ? query.resource.target.id : undefined),
      validateRequest: true,
    });
    if (answer.type === "failure") {
      // The request itself did not fit the schema: a bug in Leasehold, never a user's input.
      throw new Error(
        `policy request for ${query.action} is malformed: ${answer.errors.map((e) => e.message).join("; ")}`,
      );
    }
    const { decision, diagnostics } = answer.response;
    // Cedar skips a policy whose evaluation fails. A skipped forbid must not let a request through:
    // fail closed, naming it.
    const brokenForbids = diagnostics.errors.filter((e) => byId.get(e.policyId)?.effect === "forbid");
    if (brokenForbids.length > 0) {
      return {
        allowed: false,
        policies: brokenForbids.map((e) => e.policyId),
        advice: brokenForbids.map((e) => `policy ${e.policyId} could not be evaluated (${e.error.message})`),
      };
    }
    const deciding = diagnostics.reason;
    const advice = deciding.flatMap((id) => {
      const note = byId.get(id)?.annotations.advice;
      return decision === "deny" && note !== undefined ? [note] : [];
    });
    return { allowed: decision === "allow", policies: deciding, advice };
  };
  const answers = secondMemo<PolicyDecision>();

  return {
    policies,
    decide(query) {
      // An action applies to some kinds of principal only (people request, workloads lease): anyone
      // else is refused here, before a request Cedar would reject as not matching the schema.
      const type = query.principal.kind === "human" ? "Person" : "Workload";
      if (!ACTION_SPECS[query.action].principals.includes(type)) {
        return { allowed: false, policies: [], advice: [] };
      }
      // Policies see the time to the second, so within one second the same question has the same
      // answer: a workload using its lease hundreds of times a second asks Cedar once.
      const second = Math.floor(query.now.getTime() / 1000);
      const { principal, resource, action, context } = query;
      const key = JSON.stringify([
        action,
        principal.kind,
        principal.id,
        principal.provider,
        principal.subject,
        principal.groups,
        principal.claims ?? null,
        resource.type === "Target" ? resource.target.id : resource.type === "Rotation" ? resource.id : "",
        resource.type,
        context,
      ]);
      return answers(second, key, () => ask({ ...query, now: new Date(second * 1000) }));
    },
  };
}

/** Most answers kept for one second: beyond it, questions are simply asked. */
const MAX_ANSWERS_PER_SECOND = 10_000;

/** Answers remembered for the current second only; a new second starts empty. */
function secondMemo<T>(): (second: number, key: string, compute: () => T) => T {
  let current = Number.NaN;
  let answers = new Map<string, T>();
  return (second, key, compute) => {
    if (second !== current) {
      current = second;
      answers = new Map();
    }
    const known = answers.get(key);
    if (known !== undefined) return known;
    const answer = compute();
    if (answers.size < MAX_ANSWERS_PER_SECOND) answers.set(key, answer);
    return answer;
  };
}

/** The engine for leasehold.yaml's lists (targets, admins, auditors) and the policy files beside it. */
export const policyEngineFor = (
  config: {
    readonly targets: readonly Target[];
    readonly admins: PrincipalSet;
    readonly auditors?: PrincipalSet | undefined;
  },
  files: readonly PolicySource[] = [],
): PolicyEngine => createPolicyEngine([translateConfig(config), ...files]);
