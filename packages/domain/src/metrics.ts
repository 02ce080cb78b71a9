/**
 * What happened, counted: the port the use cases, the queues' workers, the API and the Slack adapter
 * report through, so none of them imports a metrics library (packages/metrics implements it with
 * prom-client). Every argument becomes a label or an observation, so each is from a bounded set: a
 * target kind, a queue name, a rotation id or role from leasehold.yaml, a fixed reason. Never a grant
 * id, a request id, an email or any text a caller chose.
 */
export interface Metrics {
  /** A credential was issued by `provider` (a target kind), `seconds` after the provider was called. */
  grantIssued(provider: string, seconds: number): void;
  /** A grant's credential was revoked (or expired) at `provider`, taking `seconds`. */
  revokeCompleted(provider: string, seconds: number): void;
  /** A grant ended `seconds` after its deadline (0 when on time). */
  expiryLateness(seconds: number): void;
  /** A reconciliation sweep took `seconds` and found `overdue` grants past their deadline. */
  sweepFinished(seconds: number, overdue: number): void;
  /** A queued job attempt failed on `queue` (a registered queue name). */
  jobFailed(queue: string): void;
  /** A message to Slack was delivered, failed, or was refused with 429. */
  slackDelivery(outcome: SlackDeliveryOutcome): void;
  /** A bearer token (OIDC, session) was refused at the API, for `reason`. */
  tokenRejected(reason: TokenRejectionReason): void;
  /** The API refused a call to `procedure` (a tRPC path of ours) for its rate limit. */
  rateLimited(procedure: string): void;
  /** A rotation run (`rotation` is its id in leasehold.yaml) ended. */
  rotationOutcome(rotation: string, outcome: RotationOutcome): void;
  /** After writing a role's denials: the share (0..1) of its inline-policy budget now used. */
  iamPolicyBudgetUsed(role: string, ratio: number): void;
  /** After a re-seal run: how many values of `kind` are still under a previous master key. */
  sealedUnderPreviousKeys(kind: SealedKind, count: number): void;
}

/** What the re-seal after a master key rotation moves (the `kind` label). */
export type SealedKind = "credential" | "staged_value" | "grant_mac" | "vault_secret_id";

export type SlackDeliveryOutcome = "delivered" | "failed" | "rate_limited";
export type RotationOutcome = "succeeded" | "failed";
/** Why a token was refused; a closed set so the label stays bounded. */
export const TOKEN_REJECTION_REASONS = [
  "malformed",
  "untrusted_issuer",
  "wrong_audience",
  "expired",
  "bad_signature",
  "bad_claims",
  "idp_unreachable",
  "other",
] as const;
export type TokenRejectionReason = (typeof TOKEN_REJECTION_REASONS)[number];

/** Counts nothing: the default where no metrics are wired (tests, the CLI). */
export const noMetrics: Metrics = {
  grantIssued: () => undefined,
  revokeCompleted: () => undefined,
  expiryLateness: () => undefined,
  sweepFinished: () => undefined,
  jobFailed: () => undefined,
  slackDelivery: () => undefined,
  tokenRejected: () => undefined,
  rateLimited: () => undefined,
  rotationOutcome: () => undefined,
  iamPolicyBudgetUsed: () => undefined,
  sealedUnderPreviousKeys: () => undefined,
};
