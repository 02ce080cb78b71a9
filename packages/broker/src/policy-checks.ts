import {
  type AccessRequest,
  DEFAULT_MAX_ACTIVE_PER_RULE,
  ForbiddenError,
  type LeaseRule,
  type Principal,
  type Review,
  StepUpRequiredError,
  samePrincipalId,
  stepUpProblem,
  type Target,
  tallyReviews,
} from "@leasehold/domain";
import {
  type ContextOf,
  leaseRulePolicyId,
  type PolicyDecision,
  type PolicyResource,
  type RequestDetails,
} from "@leasehold/policy";
import type { BrokerDeps } from "./broker-deps.js";

/*
 * Every authorization decision the use cases make, through the one policy engine (Cedar: the
 * translated leasehold.yaml lists and the policy files). The invariants no policy can switch off are
 * checked here in code, before the engine is asked: the requester never counts as an approver, and a
 * refusal names the policies behind it.
 */

export type PolicyDeps = Pick<BrokerDeps, "policy" | "clock">;

const targetResource = (target: Target): PolicyResource => ({ type: "Target", target });

/** The refusal for a denied decision: what was refused, the policies' advice, and which policies. */
export function refusal(what: string, decision: PolicyDecision): ForbiddenError {
  const advice = decision.advice.length > 0 ? `: ${decision.advice.join("; ")}` : "";
  const by = decision.policies.length > 0 ? ` (policy ${decision.policies.join(", ")})` : "";
  return new ForbiddenError(`${what}${advice}${by}`);
}

/** A request as policies see it; for a listing, where nothing is asked yet, the target's defaults. */
export const requestDetails = (
  target: Target,
  asked: Partial<{
    durationSeconds: number;
    ticket: string | null;
    reason: string;
    scopes: readonly string[];
  }> = {},
): RequestDetails => ({
  durationSeconds: asked.durationSeconds ?? target.defaultDurationSeconds,
  ticket: asked.ticket ?? "",
  reason: asked.reason ?? "",
  scopes: asked.scopes ?? [],
});

/** Request, BreakGlass or AutoApprove: a person asking for a target. */
export function decideAsking<A extends "Request" | "BreakGlass" | "AutoApprove">(
  { policy, clock }: PolicyDeps,
  action: A,
  principal: Principal,
  target: Target,
  context: ContextOf[A],
): PolicyDecision {
  return policy.decide({ action, principal, resource: targetResource(target), context, now: clock() });
}

/** Whether a person may ask for the target at all (listing targets): a plain request with its defaults. */
export const mayRequest = (deps: PolicyDeps, principal: Principal, target: Target): boolean =>
  decideAsking(deps, "Request", principal, target, {
    request: requestDetails(target),
    onCall: false,
    incidents: [],
  }).allowed;

/**
 * Whether `principal` may approve `request` now. The requester never may, whatever a policy says
 * (invariant 1); `reviews` are the reviews so far.
 */
export function decideApprove(
  { policy, clock }: PolicyDeps,
  principal: Principal,
  target: Target,
  request: AccessRequest,
  reviews: readonly Review[],
): PolicyDecision {
  if (samePrincipalId(principal.id, request.requesterId)) return { allowed: false, policies: [], advice: [] };
  const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
  return policy.decide({
    action: "Approve",
    principal,
    resource: targetResource(target),
    context: {
      request: requestDetails(target, request),
      requester: request.requesterId,
      approvals: tally.approvers,
      escalationLevel: request.escalationLevel,
    },
    now: clock(),
  });
}

/** The refusal of a review, or nothing: the requester's own request is refused in words of its own. */
export function assertMayReview(
  deps: PolicyDeps,
  principal: Principal,
  target: Target,
  request: AccessRequest,
  reviews: readonly Review[],
): PolicyDecision {
  if (samePrincipalId(principal.id, request.requesterId)) {
    throw new ForbiddenError("you cannot review your own request");
  }
  const decision = decideApprove(deps, principal, target, request, reviews);
  if (!decision.allowed) throw refusal(`you are not an approver for ${target.id}`, decision);
  return decision;
}

/**
 * Refuses a call whose sign-in does not satisfy the target's `stepUp` (a fresh sign-in with the
 * identity provider, of a given class): an approval or a break-glass on such a target counts only from
 * someone who proved moments ago that they are at the keyboard. Called before anything is recorded.
 */
export function assertSteppedUp(principal: Principal, target: Target, now: Date): void {
  if (!target.stepUp) return;
  const problem = stepUpProblem(target.stepUp, principal.authentication, now);
  if (problem) throw new StepUpRequiredError(target.id, problem);
}

/** Admins' reading: the audit trail, and every grant and request (the policies for ReadAudit). */
export const mayReadAudit = ({ policy, clock }: PolicyDeps, principal: Principal): boolean =>
  policy.decide({
    action: "ReadAudit",
    principal,
    resource: { type: "AuditTrail" },
    context: {},
    now: clock(),
  }).allowed;

export function assertMayRotate(
  { policy, clock }: PolicyDeps,
  principal: Principal,
  rotationId: string,
): void {
  const decision = policy.decide({
    action: "Rotate",
    principal,
    resource: { type: "Rotation", id: rotationId },
    context: {},
    now: clock(),
  });
  if (!decision.allowed) throw refusal("only admins may run rotations", decision);
}

/**
 * Whether someone other than the holder may revoke a grant of `target`. A grant whose target was
 * removed from leasehold.yaml has no resource to decide on: whoever may read the audit trail (the
 * admins) may still end it.
 */
export function mayRevokeOthers(deps: PolicyDeps, principal: Principal, target: Target | undefined): boolean {
  if (!target) return mayReadAudit(deps, principal);
  return deps.policy.decide({
    action: "Revoke",
    principal,
    resource: targetResource(target),
    context: { holder: false },
    now: deps.clock(),
  }).allowed;
}

/** Whether the holder may extend a grant of `target` by `extendBySeconds`. */
export const decideExtend = (
  { policy, clock }: PolicyDeps,
  principal: Principal,
  target: Target,
  extendBySeconds: number,
): PolicyDecision =>
  policy.decide({
    action: "Extend",
    principal,
    resource: targetResource(target),
    context: { holder: true, extendBySeconds },
    now: clock(),
  });

/**
 * Whether a workload may lease the target, and under which rule: the lowest-numbered lease rule of
 * leasehold.yaml whose policy allowed it, or, when a policy file's permit allowed it, a rule with the
 * target's maximum and the default cap. Undefined when refused (with the decision).
 */
export function decideLease(
  { policy, clock }: PolicyDeps,
  principal: Principal,
  target: Target,
  ttlSeconds: number,
): { decision: PolicyDecision; rule: LeaseRule | undefined } {
  const decision = policy.decide({
    action: "Lease",
    principal,
    resource: targetResource(target),
    context: { ttlSeconds },
    now: clock(),
  });
  if (!decision.allowed) return { decision, rule: undefined };
  const index = target.leases.findIndex((_, i) =>
    decision.policies.includes(leaseRulePolicyId(target.id, i)),
  );
  const rule = target.leases[index] ?? {
    provider: principal.provider,
    subject: principal.subject,
    claims: {},
    maxTtlSeconds: target.maxDurationSeconds,
    maxActive: DEFAULT_MAX_ACTIVE_PER_RULE,
  };
  return { decision, rule };
}
