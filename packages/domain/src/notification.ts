import type { AccessRequest } from "./access-request.js";
import type { BreakGlassReview } from "./break-glass.js";
import { UpstreamError } from "./errors.js";

/**
 * The vocabulary of notifications, shared by the use case that decides them (broker) and the
 * messengers that deliver them (Slack): what is said, never how it looks on a platform.
 */

/** What the approvers' channel message shows about one request. */
export type RequestCard = {
  readonly request: AccessRequest;
  readonly targetDescription: string;
  /**
   * The scopes the request names, with their descriptions from the target (so approvers see exactly
   * what was asked). Absent: only the names on `request.scopes` are shown.
   */
  readonly scopes?: readonly { readonly name: string; readonly description: string }[];
  /** Distinct approvers so far, in order. */
  readonly approvals: readonly string[];
  readonly needed: number;
  readonly deniedBy: string | null;
  readonly denyComment: string | null;
};

/**
 * What the broadcast of a break-glass shows: who, which target, why, for how long, and its review
 * (null until an approver marks it justified or unjustified).
 */
export type BreakGlassCard = {
  readonly request: AccessRequest;
  readonly targetDescription: string;
  readonly review: BreakGlassReview | null;
};

/** Where a posted request card lives, so later events edit it in place. */
export type MessageRef = { readonly channel: string; readonly ts: string };

/**
 * A direct message to the person a request or grant belongs to, or to an approver a request was
 * escalated to. None ever carries a credential.
 */
export type DirectMessage =
  | {
      /** Nobody decided in time: the request now also waits for this approver (escalation.ts). */
      readonly kind: "escalated";
      readonly requestId: string;
      readonly targetId: string;
      readonly requesterId: string;
      readonly level: number;
      /** When the request was made: how long it has waited. */
      readonly waitingSince: Date;
      /** Where the request was re-posted for a decision; null when no channel is configured. */
      readonly channel: string | null;
    }
  | {
      /** Someone broke glass on a target this approver approves: it waits for their review. */
      readonly kind: "break-glass";
      readonly requestId: string;
      readonly targetId: string;
      readonly requesterId: string;
      readonly reason: string;
      readonly ticket: string | null;
      readonly durationSeconds: number;
      /** The channels the broadcast went to, where it can be marked justified or not. */
      readonly channels: readonly string[];
    }
  | {
      readonly kind: "decision";
      readonly targetId: string;
      readonly outcome: "approved" | "denied";
      readonly by: readonly string[];
      readonly comment: string | null;
    }
  | {
      readonly kind: "granted";
      readonly grantId: string;
      readonly targetId: string;
      readonly expiresAt: Date;
      readonly extended: boolean;
    }
  | {
      readonly kind: "reminder";
      readonly grantId: string;
      readonly targetId: string;
      readonly expiresAt: Date;
      /** How much an Extend action may add; 0 offers none. */
      readonly extendBySeconds: number;
    }
  | {
      readonly kind: "ended";
      readonly targetId: string;
      readonly how: "expired" | "revoked" | "failed";
      readonly detail: string | null;
    };

/** A message for the people who must act: the security team, a target's approvers. */
export type Alert =
  | {
      readonly kind: "revocation-debt";
      readonly grantId: string;
      readonly targetId: string;
      readonly principalId: string;
      readonly error: string;
    }
  | {
      /** A role's revocations no longer fit its policy budget: a cut-off now refuses its older sessions. */
      readonly kind: "revocation-cutoff";
      readonly role: string;
      readonly cutoffAt: Date;
      readonly revocations: number;
      readonly kept: number;
      readonly ended: number;
    }
  | {
      /** A request approved by policy, not by a person: on call, on an incident, pre-approved. */
      readonly kind: "auto-approved";
      readonly requestId: string;
      readonly targetId: string;
      readonly requesterId: string;
      readonly policies: readonly string[];
      readonly reason: string;
    }
  | {
      /**
       * An approver pre-approved a person for a target: their requests inside the window are
       * approved without anyone being asked, so the approvers hear of the window once, up front.
       */
      readonly kind: "pre-approval";
      readonly preApprovalId: string;
      readonly targetId: string;
      readonly principalId: string;
      readonly approverId: string;
      readonly startsAt: Date;
      readonly endsAt: Date;
      readonly reason: string;
    }
  | {
      readonly kind: "rotation-failed";
      readonly rotationId: string;
      readonly step: string;
      readonly error: string;
      readonly rolledBack: boolean;
    }
  | {
      /** No run of the rotation succeeded for two periods of its schedule; once per episode. */
      readonly kind: "rotation-overdue";
      readonly rotationId: string;
      /** The last success, or when the count started if the rotation never succeeded. */
      readonly since: Date;
      readonly everSucceeded: boolean;
      /** The gap between two ticks of its schedule. */
      readonly periodSeconds: number;
    }
  | {
      /**
       * An audit sink has failed every delivery for longer than the alert threshold: its copy of the
       * trail falls behind (nothing is lost; it resumes where it stopped). Raised once per outage.
       */
      readonly kind: "audit-sink-failing";
      readonly sink: string;
      readonly failingSince: Date;
      /** The last delivery's error, as the sink put it (never a secret). */
      readonly error: string;
      /** Events written to the trail that the sink does not hold yet. */
      readonly behindEvents: number;
    };

/**
 * A backend asked us to slow down and said for how long. The job that made the call is put back for
 * `retryAfterMs` without using up an attempt (the call was refused, not failed).
 */
export class RetryAfterError extends UpstreamError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options: { upstreamCode?: string } = {}) {
    super(message, { retryable: true, upstreamCode: options.upstreamCode });
    this.retryAfterMs = retryAfterMs;
  }
}
