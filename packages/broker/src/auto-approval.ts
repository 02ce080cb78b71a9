import type { Repositories } from "@leasehold/db";
import {
  type AccessRequest,
  type Grant,
  newGrant,
  type Principal,
  type Target,
  UpstreamError,
} from "@leasehold/domain";
import type { PolicyDecision } from "@leasehold/policy";
import type { Record as AuditRecord } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";

/*
 * Approval by policy (Cedar's AutoApprove): a request by someone on call for the target's service, on
 * an open incident naming it, or inside a pre-approval window is approved without a person, never
 * silently: the approval is audited as `policy:<id>`, the request is posted to its approvers as any
 * other, and the alerts channel is told. At most `autoApprove.maxPerDay` per person and target in any
 * 24 hours; beyond that, and whenever the on-call provider cannot answer, people approve.
 */

/** What the policies know of a person asking, besides the request itself. */
export type AskingFacts = {
  readonly onCall: boolean;
  readonly incidents: readonly string[];
  readonly preApproved: boolean;
  /** Why on-call facts are missing (the provider could not answer), for the requester; null otherwise. */
  readonly unavailable: string | null;
};

/** How a request fared with approval by policy; null when no policy would approve it. */
export type AutoApproval = {
  readonly outcome: "approved" | "rate-limited" | "unavailable";
  readonly policies: readonly string[];
  /** What the requester is told. */
  readonly message: string;
} | null;

type FactDeps = Pick<BrokerDeps, "onCall" | "clock" | "log" | "store">;

/** Everything AutoApprove's context needs to know of a person asking, read before any transaction. */
export async function askingFacts(
  deps: FactDeps,
  principal: Principal,
  target: Target,
  now: Date,
): Promise<AskingFacts> {
  const [onCall, window] = await Promise.all([
    onCallFacts(deps, principal, target, now),
    deps.store.read((repos) => repos.preApprovals.activeFor(principal.id, target.id, now)),
  ]);
  return { ...onCall, preApproved: window !== undefined };
}

/**
 * Asks the target's on-call provider about the requester (an email names them there). A provider
 * that cannot answer gives no facts, so nothing is approved by them; the request waits for people.
 */
async function onCallFacts(
  { onCall, log }: FactDeps,
  principal: Principal,
  target: Target,
  now: Date,
): Promise<Omit<AskingFacts, "preApproved">> {
  const binding = target.onCall;
  if (!binding || !onCall || principal.kind !== "human") {
    return { onCall: false, incidents: [], unavailable: null };
  }
  try {
    const status = await onCall.status(principal.id, binding, now);
    return { onCall: status.onCall, incidents: [...status.incidents], unavailable: null };
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    log.warn(
      { targetId: target.id, provider: binding.provider, error: error.message },
      "on-call provider unavailable",
    );
    return {
      onCall: false,
      incidents: [],
      unavailable: `${error.message}; on-call auto-approval is off for this request, so it waits for approvers`,
    };
  }
}

const DAY_MS = 86_400_000;

/**
 * Inside the transaction that recorded the request: approves it by policy when the day's allowance
 * for this person and target is not used up, creating its grant (bound to the incidents it rests on,
 * when those alone approved it). Returns the grant, or null when the allowance is used up.
 */
export async function approveByPolicy(
  repos: Repositories,
  record: AuditRecord,
  input: {
    request: AccessRequest;
    target: Target;
    decision: PolicyDecision;
    facts: AskingFacts;
    newId: () => string;
    now: Date;
  },
): Promise<Grant | null> {
  const { request, target, decision, facts, now } = input;
  const since = new Date(now.getTime() - DAY_MS);
  const used = await repos.autoApprovals.countApprovedByPolicy(request.requesterId, target.id, since);
  if (used >= target.autoApprove.maxPerDay) return null;
  await repos.requests.decide(request.id, "approved", now);
  await repos.autoApprovals.markApprovedByPolicy(request.id, decision.policies);
  const actor = `policy:${decision.policies[0] ?? "unknown"}`;
  record({
    actor,
    action: "request.approved",
    subjectType: "request",
    subjectId: request.id,
    data: { approvers: [], policies: [...decision.policies] },
  });
  const grant = newGrant({
    id: input.newId(),
    requestId: request.id,
    targetId: target.id,
    principalId: request.requesterId,
    durationSeconds: request.durationSeconds,
    now,
  });
  await repos.grants.insert(grant);
  record({
    actor,
    action: "grant.created",
    subjectType: "grant",
    subjectId: grant.id,
    data: { requestId: request.id, targetId: target.id, durationSeconds: grant.durationSeconds },
  });
  // On call or pre-approved stands on its own; an approval that rests on incidents alone lasts as
  // long as one of them is open.
  if (!facts.onCall && !facts.preApproved && target.onCall && facts.incidents.length > 0) {
    await repos.autoApprovals.bindIncidents(grant.id, target.onCall, facts.incidents, now);
  }
  return grant;
}

/** What the requester is told about approval by policy. */
export function describeAutoApproval(
  decision: PolicyDecision,
  facts: AskingFacts,
  grant: Grant | null,
  target: Target,
): AutoApproval {
  if (facts.unavailable !== null && !decision.allowed) {
    return { outcome: "unavailable", policies: [], message: facts.unavailable };
  }
  if (!decision.allowed) return null;
  if (grant) {
    return {
      outcome: "approved",
      policies: decision.policies,
      message: `approved by policy ${decision.policies.join(", ")}; the approvers and the alerts channel are told`,
    };
  }
  return {
    outcome: "rate-limited",
    policies: decision.policies,
    message: `policy ${decision.policies.join(", ")} would approve it, but ${target.autoApprove.maxPerDay} requests for ${target.id} were approved by policy in the last 24 hours; it waits for approvers`,
  };
}
