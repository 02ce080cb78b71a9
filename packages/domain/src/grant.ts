import type { AuditAction } from "./audit.js";
import { ConflictError } from "./errors.js";

/**
 * ```
 * issuing ──► active ──► expired
 *    │          │  └───► revoking ──► revoked
 *    ▼          ▼            ▼
 *  failed   revocation_failed ◄┘  (revocation debt: retried until it ends)
 * ```
 * `revocation_failed` is debt, not an end: a later retry moves it to `revoked` or `expired`.
 */
export const grantStates = [
  "issuing",
  "active",
  "revoking",
  "revoked",
  "expired",
  "failed",
  "revocation_failed",
] as const;
export type GrantState = (typeof grantStates)[number];

export type GrantEvent =
  | "issued" // the provider returned a credential
  | "issue-failed" // the provider refused, or retries ran out
  | "extended" // the holder moved the deadline (renewed in place, or a new credential replaced the old)
  | "deadline-reached" // the credential's lifetime ended and the provider confirmed it is unusable
  | "revoke-requested" // the requester or an admin ended it early
  | "revoked" // the provider confirmed the credential no longer works
  | "revocation-gave-up"; // ending it keeps failing: the credential may still work

export const grantEvents: readonly GrantEvent[] = [
  "issued",
  "issue-failed",
  "extended",
  "deadline-reached",
  "revoke-requested",
  "revoked",
  "revocation-gave-up",
];

/**
 * The one table of grant transitions: for each event, the states it may happen in and the state it
 * leads to. Services never list states themselves; they name the event (see `grantTransition`).
 * `revocation-gave-up` may repeat on `revocation_failed`: each further failed retry is recorded.
 */
const transitions: Record<GrantEvent, { readonly from: readonly GrantState[]; readonly to: GrantState }> = {
  issued: { from: ["issuing"], to: "active" },
  "issue-failed": { from: ["issuing"], to: "failed" },
  extended: { from: ["active"], to: "active" },
  "deadline-reached": { from: ["active", "revocation_failed"], to: "expired" },
  "revoke-requested": { from: ["active"], to: "revoking" },
  revoked: { from: ["revoking", "revocation_failed"], to: "revoked" },
  "revocation-gave-up": { from: ["active", "revoking", "revocation_failed"], to: "revocation_failed" },
};

/** The states `event` may happen in, and the state it leads to. */
export const grantTransition = (event: GrantEvent) => transitions[event];

/** The audit action each grant transition writes: one event per transition (invariant 7). */
export const grantEventAction = {
  issued: "grant.issued",
  "issue-failed": "grant.issue_failed",
  extended: "grant.extended",
  "deadline-reached": "grant.expired",
  "revoke-requested": "grant.revoke_requested",
  revoked: "grant.revoked",
  "revocation-gave-up": "grant.revocation_failed",
} as const satisfies Record<GrantEvent, AuditAction>;

export const canApplyGrantEvent = (state: GrantState, event: GrantEvent): boolean =>
  transitions[event].from.includes(state);

/** The state after `event`, or a ConflictError naming the state that refused it. */
export function nextGrantState(state: GrantState, event: GrantEvent): GrantState {
  if (!canApplyGrantEvent(state, event)) {
    throw new ConflictError(`a grant that is ${state.replace("_", " ")} cannot be ${describe(event)}`);
  }
  return transitions[event].to;
}

/** Final states: nothing more will happen to the credential. */
export const isGrantEnded = (state: GrantState): boolean =>
  state === "revoked" || state === "expired" || state === "failed";

function describe(event: GrantEvent): string {
  switch (event) {
    case "issued":
      return "issued";
    case "issue-failed":
      return "marked failed";
    case "extended":
      return "extended";
    case "deadline-reached":
      return "expired";
    case "revoke-requested":
      return "revoked";
    case "revoked":
      return "marked revoked";
    case "revocation-gave-up":
      return "marked as revocation debt";
  }
}

/** A grant as stored. */
export type Grant = {
  readonly id: string;
  /** The approved request it came from; null for workload leases that need no approval. */
  readonly requestId: string | null;
  readonly targetId: string;
  readonly principalId: string;
  readonly state: GrantState;
  readonly durationSeconds: number;
  readonly createdAt: Date;
  readonly issuedAt: Date | null;
  /** When the credential stops working; set when issued. */
  readonly expiresAt: Date | null;
  readonly endedAt: Date | null;
  /** Provider-specific, non-secret reference (STS session name, access key id, assumed role id). */
  readonly providerRef: Readonly<Record<string, string>> | null;
  /** How many times issuing has started; more than one means an earlier attempt may have left a session. */
  readonly issueAttempts: number;
  /** A short, secret-free description of the last failure. */
  readonly lastError: string | null;
};

/** A new grant, waiting to be issued: from an approved request, or a workload's lease (no request). */
export function newGrant(input: {
  readonly id: string;
  readonly requestId: string | null;
  readonly targetId: string;
  readonly principalId: string;
  readonly durationSeconds: number;
  readonly now: Date;
}): Grant {
  return {
    id: input.id,
    requestId: input.requestId,
    targetId: input.targetId,
    principalId: input.principalId,
    state: "issuing",
    durationSeconds: input.durationSeconds,
    createdAt: input.now,
    issuedAt: null,
    expiresAt: null,
    endedAt: null,
    providerRef: null,
    issueAttempts: 0,
    lastError: null,
  };
}
