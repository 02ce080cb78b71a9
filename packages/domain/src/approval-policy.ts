import type { AccessRequest, Review } from "./access-request.js";
import { addSeconds } from "./clock.js";
import { InvalidRequestError } from "./errors.js";
import { firstEscalationAt } from "./escalation.js";
import { samePrincipalId } from "./principal.js";
import type { Target } from "./target.js";

/**
 * The credential lifetime for a request: the target's default when none is asked for, otherwise the
 * asked-for duration if it lies within both the target's maximum and what the backend accepts.
 */
export function resolveDuration(target: Target, requestedSeconds: number | undefined): number {
  const seconds = requestedSeconds ?? target.defaultDurationSeconds;
  const limits = target.durationLimits;
  if (!Number.isInteger(seconds) || seconds < limits.minSeconds) {
    throw new InvalidRequestError(`${target.id} needs a duration of at least ${limits.minSeconds} seconds`);
  }
  const max = Math.min(target.maxDurationSeconds, limits.maxSeconds);
  if (seconds > max) {
    throw new InvalidRequestError(`${target.id} allows at most ${max} seconds; asked for ${seconds}`);
  }
  return seconds;
}

/** Checks a ticket against the target's rule; returns it normalized (null when absent). */
export function resolveTicket(target: Target, ticket: string | undefined): string | null {
  if (ticket === undefined || ticket === "") {
    if (target.ticket.required) throw new InvalidRequestError(`${target.id} requires a ticket`);
    return null;
  }
  if (
    target.ticket.pattern !== undefined &&
    !new RegExp(`^(?:${target.ticket.pattern})$`, "u").test(ticket)
  ) {
    throw new InvalidRequestError(
      `ticket does not match the format ${target.id} expects (${target.ticket.pattern})`,
    );
  }
  return ticket;
}

/** When a request made at `now` for this target stops waiting for approval. */
export const pendingUntil = (target: Target, now: Date): Date => addSeconds(now, target.pendingTtlSeconds);

/**
 * A request for `target` as it is made: pending, waiting until the target's pending TTL, first
 * escalating when the target says, not a break-glass. Its fields are checked by the caller.
 */
export function newPendingRequest(
  target: Target,
  input: Pick<AccessRequest, "id" | "requesterId" | "reason" | "ticket" | "durationSeconds" | "scopes"> & {
    readonly now: Date;
  },
): AccessRequest {
  const { now, ...asked } = input;
  const until = pendingUntil(target, now);
  return {
    ...asked,
    targetId: target.id,
    requiredApprovals: target.requiredApprovals,
    state: "pending",
    createdAt: now,
    pendingUntil: until,
    decidedAt: null,
    escalationLevel: 0,
    escalateAt: firstEscalationAt(target, now, until),
    breakGlass: false,
  };
}

export type Tally = {
  /** Distinct approvers so far, in the order they approved. */
  readonly approvers: readonly string[];
  readonly needed: number;
  readonly outcome: "approved" | "denied" | "pending";
  /** Who denied, when the outcome is denied. */
  readonly deniedBy: string | null;
};

/**
 * Counts reviews: one deny ends the request; otherwise it is approved once `required` distinct
 * reviewers other than the requester approved. Reviews are checked for eligibility when recorded;
 * the requester is excluded again here so that no path can count them.
 */
export function tallyReviews(reviews: readonly Review[], requesterId: string, required: number): Tally {
  const approvers: string[] = [];
  for (const review of reviews) {
    if (samePrincipalId(review.reviewerId, requesterId)) continue;
    if (review.decision === "deny") {
      return {
        approvers,
        needed: Math.max(0, required - approvers.length),
        outcome: "denied",
        deniedBy: review.reviewerId,
      };
    }
    if (!approvers.some((id) => samePrincipalId(id, review.reviewerId))) approvers.push(review.reviewerId);
  }
  const needed = Math.max(0, required - approvers.length);
  return { approvers, needed, outcome: needed === 0 ? "approved" : "pending", deniedBy: null };
}

/**
 * A new deadline for an active grant extended by `extendBySeconds`. The grant's planned life
 * (`durationSeconds`, whole seconds from issue) grows by that much and may not exceed the target's
 * maximum; the new credential must last at least as long as the backend requires. Credentials last
 * whole seconds while the clock has milliseconds, so the credential's seconds are rounded down: the
 * new deadline is never later than the planned one, and the whole life never exceeds the maximum.
 */
export function resolveExtension(
  target: Target,
  grant: { issuedAt: Date | null; expiresAt: Date | null; durationSeconds: number },
  extendBySeconds: number,
  now: Date,
): { deadline: Date; credentialSeconds: number } {
  if (!grant.issuedAt || !grant.expiresAt || grant.expiresAt <= now) {
    throw new InvalidRequestError("only an active grant before its deadline can be extended");
  }
  const limits = target.durationLimits;
  const max = Math.min(target.maxDurationSeconds, limits.maxSeconds);
  const planned = addSeconds(grant.issuedAt, grant.durationSeconds + extendBySeconds);
  const credentialSeconds = Math.max(
    limits.minSeconds,
    Math.floor((planned.getTime() - now.getTime()) / 1000),
  );
  const deadline = addSeconds(now, credentialSeconds);
  if (deadline.getTime() - grant.issuedAt.getTime() > max * 1000) {
    throw new InvalidRequestError(
      `${target.id} allows at most ${max} seconds in all; this grant can be extended by at most ${Math.max(0, max - grant.durationSeconds)} more seconds`,
    );
  }
  return { deadline, credentialSeconds };
}
