import type { BreakGlassItem, RequestView, RotationSummary } from "@leasehold/broker";
import type { RotationRun } from "@leasehold/db";
import type { AuditEvent, Grant, PreApproval, Target } from "@leasehold/domain";

/** API output shapes: plain JSON, instants as ISO-8601 strings, never a credential. */

const iso = (at: Date | null) => (at ? at.toISOString() : null);

export const renderTarget = (target: Target) => ({
  id: target.id,
  kind: target.kind,
  description: target.description,
  requiredApprovals: target.requiredApprovals,
  maxDurationSeconds: target.maxDurationSeconds,
  defaultDurationSeconds: target.defaultDurationSeconds,
  ticket: { required: target.ticket.required, pattern: target.ticket.pattern ?? null },
  /** What a request may name in `scopes` (names and descriptions; what each does stays in leasehold.yaml). */
  scopes: target.scopes.map((scope) => ({ name: scope.name, description: scope.description })),
  defaultScopes: target.defaultScopes,
});

export const renderRequest = ({ request, reviews, tally }: RequestView) => ({
  id: request.id,
  targetId: request.targetId,
  requesterId: request.requesterId,
  reason: request.reason,
  ticket: request.ticket,
  durationSeconds: request.durationSeconds,
  scopes: request.scopes,
  state: request.state,
  createdAt: iso(request.createdAt),
  pendingUntil: iso(request.pendingUntil),
  decidedAt: iso(request.decidedAt),
  requiredApprovals: request.requiredApprovals,
  approvals: tally.approvers,
  approvalsNeeded: tally.needed,
  /** Escalation levels it has moved up because nobody decided in time (0: not escalated). */
  escalationLevel: request.escalationLevel,
  /** Activated without approval (break-glass); reviewed afterwards. */
  breakGlass: request.breakGlass,
  reviews: reviews.map((r) => ({
    reviewerId: r.reviewerId,
    decision: r.decision,
    comment: r.comment,
    createdAt: iso(r.createdAt),
  })),
});

export const renderBreakGlass = ({ request, review }: BreakGlassItem) => ({
  id: request.id,
  targetId: request.targetId,
  requesterId: request.requesterId,
  reason: request.reason,
  ticket: request.ticket,
  durationSeconds: request.durationSeconds,
  createdAt: iso(request.createdAt),
  /** Null until an approver marks it justified or unjustified. */
  review: review && {
    reviewerId: review.reviewerId,
    verdict: review.verdict,
    comment: review.comment,
    reviewedAt: iso(review.reviewedAt),
  },
});

export const renderGrant = (grant: Grant) => ({
  id: grant.id,
  requestId: grant.requestId,
  targetId: grant.targetId,
  principalId: grant.principalId,
  state: grant.state,
  durationSeconds: grant.durationSeconds,
  createdAt: iso(grant.createdAt),
  issuedAt: iso(grant.issuedAt),
  expiresAt: iso(grant.expiresAt),
  endedAt: iso(grant.endedAt),
  reference: grant.providerRef,
  lastError: grant.lastError,
});

export const renderAuditEvent = (event: AuditEvent) => ({ ...event, at: event.at.toISOString() });

export const renderRotationRun = (run: RotationRun) => ({
  id: run.id,
  rotationId: run.rotationId,
  triggeredBy: run.triggeredBy,
  state: run.state,
  step: run.step,
  attempts: run.attempts,
  steps: run.steps,
  lastError: run.lastError,
  startedAt: iso(run.startedAt),
  finishedAt: iso(run.finishedAt),
});

export const renderRotation = (rotation: RotationSummary) => ({
  id: rotation.id,
  kind: rotation.kind,
  schedule: { cron: rotation.schedule.cron, jitterSeconds: rotation.schedule.jitterSeconds },
  targetDescription: rotation.targetDescription,
  lastRun: rotation.lastRun && renderRotationRun(rotation.lastRun),
});

export const renderPreApproval = (p: PreApproval) => ({
  id: p.id,
  targetId: p.targetId,
  principalId: p.principalId,
  approverId: p.approverId,
  reason: p.reason,
  startsAt: iso(p.startsAt),
  endsAt: iso(p.endsAt),
  createdAt: iso(p.createdAt),
  revokedAt: iso(p.revokedAt),
  revokedBy: p.revokedBy,
});
