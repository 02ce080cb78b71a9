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
  | "deadline-reached" // the credential's lifetime ended and the provider confirmed it is unusable
  | "revoke-requested" // the requester or an admin ended it early
  | "revoked" // the provider confirmed the credential no longer works
  | "revocation-gave-up"; // retries ran out: the credential may still work

const transitions: Record<GrantState, Partial<Record<GrantEvent, GrantState>>> = {
  issuing: { issued: "active", "issue-failed": "failed" },
  active: {
    "deadline-reached": "expired",
    "revoke-requested": "revoking",
    "revocation-gave-up": "revocation_failed",
  },
  revoking: { revoked: "revoked", "revocation-gave-up": "revocation_failed" },
  revocation_failed: { revoked: "revoked", "deadline-reached": "expired" },
  revoked: {},
  expired: {},
  failed: {},
};

/** The state after `event`, or a ConflictError naming the state that refused it. */
export function nextGrantState(state: GrantState, event: GrantEvent): GrantState {
  const next = transitions[state][event];
  if (next === undefined) {
    throw new ConflictError(`a grant that is ${state.replace("_", " ")} cannot be ${describe(event)}`);
  }
  return next;
}

export const canApplyGrantEvent = (state: GrantState, event: GrantEvent): boolean =>
  transitions[state][event] !== undefined;

/** Final states: nothing more will happen to the credential. */
export const isGrantEnded = (state: GrantState): boolean =>
  state === "revoked" || state === "expired" || state === "failed";

/** States in which a credential may still work, so the deadline must still be enforced. */
export const mayStillWork = (state: GrantState): boolean =>
  state === "issuing" || state === "active" || state === "revoking" || state === "revocation_failed";

function describe(event: GrantEvent): string {
  switch (event) {
    case "issued":
      return "issued";
    case "issue-failed":
      return "marked failed";
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
