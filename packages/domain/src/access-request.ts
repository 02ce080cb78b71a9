import { ConflictError } from "./errors.js";

/** `pending → approved | denied | cancelled | expired`; the last four are final. */
export const requestStates = ["pending", "approved", "denied", "cancelled", "expired"] as const;
export type RequestState = (typeof requestStates)[number];

/** Something that can happen to a request. */
export type RequestEvent =
  | "final-approval" // the last required approval arrived
  | "deny"
  | "cancel"
  | "timeout"; // the pending TTL passed without a decision

const onPending: Record<RequestEvent, RequestState> = {
  "final-approval": "approved",
  deny: "denied",
  cancel: "cancelled",
  timeout: "expired",
};

/**
 * The state after `event`, or a ConflictError: only a pending request can change, so a decision on a
 * decided request is refused rather than ignored.
 */
export function nextRequestState(state: RequestState, event: RequestEvent): RequestState {
  if (state !== "pending") {
    throw new ConflictError(`this request is already ${state}`);
  }
  return onPending[event];
}

export type ReviewDecision = "approve" | "deny";

/** An access request as stored. Times are instants; durations are in seconds. */
export type AccessRequest = {
  readonly id: string;
  readonly targetId: string;
  readonly requesterId: string;
  readonly reason: string;
  readonly ticket: string | null;
  readonly durationSeconds: number;
  /** The target's scopes asked for (request-scope.ts); empty: the whole target. */
  readonly scopes: readonly string[];
  /** Approvals the target required when the request was made (policy may change later). */
  readonly requiredApprovals: number;
  readonly state: RequestState;
  readonly createdAt: Date;
  /** When a pending request times out. */
  readonly pendingUntil: Date;
  readonly decidedAt: Date | null;
  /** How many escalation levels up it has moved (0: only the target's own approvers were asked). */
  readonly escalationLevel: number;
  /** When it next escalates if still undecided; null when it never will. */
  readonly escalateAt: Date | null;
  /**
   * A break-glass: approved by policy when made, with no approver, then broadcast and reviewed
   * afterwards (break-glass.ts). Never pending.
   */
  readonly breakGlass: boolean;
};

/** One reviewer's decision; at most one per reviewer per request. */
export type Review = {
  readonly requestId: string;
  readonly reviewerId: string;
  readonly decision: ReviewDecision;
  readonly comment: string | null;
  readonly createdAt: Date;
};
