import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { samePrincipalId } from "@leasehold/domain";
import { cedarRequest } from "./cedar-request.js";
import type { PolicyDecision, PolicyEngine, PolicyQuery } from "./engine.js";
import type { LoadedPolicy } from "./policy-set.js";
import { ACTION_SPECS, type Action, cedarSchema } from "./schema.js";

/*
 * `leasehold policy explain`: the decision, and for every policy that mentions the action whether it
 * held. Each policy is asked the question alone, so the answer does not depend on the others: a permit
 * alone allows iff its conditions hold; a forbid beside a permit-all denies iff they hold.
 */

/** What one policy said about the question, asked alone. */
export type PolicyVerdict = {
  readonly id: string;
  readonly effect: "permit" | "forbid";
  readonly file: string;
  readonly line: number;
  readonly advice: string | undefined;
  /** Its conditions held (a permit would allow, a forbid would deny); "error": its evaluation failed. */
  readonly satisfied: boolean | "error";
  /** Why the evaluation failed, when it did. */
  readonly error: string | undefined;
  /** Among the policies that made the decision. */
  readonly deciding: boolean;
};

export type Explanation = {
  readonly decision: PolicyDecision;
  /** An invariant no policy can switch off that decided instead of the policies, when one did. */
  readonly invariant: string | undefined;
  readonly verdicts: readonly PolicyVerdict[];
};

/** The permit-all a forbid is asked beside; the space keeps it apart from every policy id (policy-set.ts). */
const PERMIT_ALL_ID = "explain permit-all";

/** Whether the action applies to this kind of principal (people request, workloads lease). */
const appliesTo = (query: PolicyQuery<Action>): boolean =>
  ACTION_SPECS[query.action].principals.includes(query.principal.kind === "human" ? "Person" : "Workload");

/** The invariant that refuses the query before any policy is asked, if one does. */
export function invariantRefusal<A extends Action>(query: PolicyQuery<A>): string | undefined {
  if (!appliesTo(query)) {
    const spec = ACTION_SPECS[query.action];
    return `${query.action} applies to ${spec.principals.join(" and ")} principals only`;
  }
  if (query.action !== "Approve") return undefined;
  const { requester } = query.context as PolicyQuery<"Approve">["context"];
  return samePrincipalId(query.principal.id, requester)
    ? "the requester never approves their own request, whatever a policy says"
    : undefined;
}

/** The engine's decision, or the refusal of an invariant the broker checks in code before it asks. */
export function decideWithInvariants<A extends Action>(
  engine: PolicyEngine,
  query: PolicyQuery<A>,
): { decision: PolicyDecision; invariant: string | undefined } {
  const invariant = invariantRefusal(query);
  if (invariant) return { decision: { allowed: false, policies: [], advice: [] }, invariant };
  return { decision: engine.decide(query), invariant: undefined };
}

const actionIdOf = (uid: cedar.EntityUidJson): string => ("__entity" in uid ? uid.__entity.id : uid.id);

/** Whether a policy's scope can match the action: `action == A`, `action in [.., A]`, or any action. */
export function mentionsAction(policy: LoadedPolicy, action: Action): boolean {
  const json = cedar.policyToJson(policy.text);
  if (json.type === "failure") return true;
  const scope = json.json.action;
  switch (scope.op) {
    case "All":
      return true;
    case "==":
      return "entity" in scope && actionIdOf(scope.entity) === action;
    case "in":
      return ("entities" in scope ? scope.entities : [scope.entity]).some((e) => actionIdOf(e) === action);
    default:
      return true;
  }
}

/** Asks one policy the question alone (a forbid beside a permit-all). */
function askAlone(
  policy: LoadedPolicy,
  request: ReturnType<typeof cedarRequest>,
  schema: string,
): Pick<PolicyVerdict, "satisfied" | "error"> {
  const staticPolicies: Record<string, string> = { [policy.id]: policy.text };
  if (policy.effect === "forbid") staticPolicies[PERMIT_ALL_ID] = "permit (principal, action, resource);";
  const answer = cedar.isAuthorized({
    ...request,
    schema,
    validateRequest: true,
    policies: { staticPolicies },
  });
  if (answer.type === "failure") {
    return { satisfied: "error", error: answer.errors.map((e) => e.message).join("; ") };
  }
  const failed = answer.response.diagnostics.errors.find((e) => e.policyId === policy.id);
  if (failed) return { satisfied: "error", error: failed.error.message };
  const allowed = answer.response.decision === "allow";
  return { satisfied: policy.effect === "permit" ? allowed : !allowed, error: undefined };
}

/** The decision for the query, and what every policy that mentions its action said alone. */
export function explainQuery<A extends Action>(engine: PolicyEngine, query: PolicyQuery<A>): Explanation {
  const { decision, invariant } = decideWithInvariants(engine, query);
  const schema = cedarSchema();
  const request = cedarRequest(query);
  // A principal the action does not apply to is a question the schema refuses: no policy is asked.
  const applies = appliesTo(query);
  const verdicts = engine.policies
    .filter(() => applies)
    .filter((policy) => mentionsAction(policy, query.action))
    .map(
      (policy): PolicyVerdict => ({
        id: policy.id,
        effect: policy.effect,
        file: policy.file,
        line: policy.line,
        advice: policy.annotations.advice,
        deciding: decision.policies.includes(policy.id),
        ...askAlone(policy, request, schema),
      }),
    );
  return { decision, invariant, verdicts };
}
