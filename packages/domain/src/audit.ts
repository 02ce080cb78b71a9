/** Everything the audit trail records. Each state change writes one of these in its own transaction. */
export const auditActions = [
  "request.created",
  "request.reviewed",
  "request.approved",
  "request.denied",
  "request.cancelled",
  "request.expired",
  "request.escalated",
  "request.break_glass",
  "request.break_glass_reviewed",
  "grant.created",
  "grant.issued",
  "grant.issue_failed",
  "grant.credentials_read",
  "grant.extended",
  "grant.revoke_requested",
  "grant.revoked",
  "grant.expired",
  "grant.revocation_failed",
  "grant.released",
  "rotation.started",
  "rotation.step",
  "rotation.succeeded",
  "rotation.failed",
  "rotation.overdue",
  "drift.corrected",
  "revocation.cutoff",
  "preapproval.created",
  "preapproval.revoked",
  "session.started",
  "session.ended",
  "session.revoked",
  "audit.checkpoint",
  "audit.key_changed",
] as const;
export type AuditAction = (typeof auditActions)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What an audit event is about. */
export type AuditSubjectType =
  | "request"
  | "grant"
  | "rotation"
  | "drift"
  | "revocation"
  | "preapproval"
  /** A console sign-in session (its public id, never its cookie). */
  | "session"
  /** The trail itself: its signed checkpoints (audit-checkpoint.ts). */
  | "audit";

/** The subject type an action's events are about: `request.*` concerns a request, and so on. */
export type AuditSubjectOf<A extends AuditAction> = A extends `${infer S extends AuditSubjectType}.${string}`
  ? S
  : never;

/**
 * An event as stored: numbered, timestamped and chained to the one before. Its `data` is whatever was
 * stored; read it through `readAuditEvent` to get the typed payload.
 */
export type AuditEvent = {
  readonly actor: string;
  readonly action: AuditAction;
  readonly subjectType: AuditSubjectType;
  readonly subjectId: string;
  readonly data: { readonly [key: string]: JsonValue };
  readonly seq: number;
  readonly at: Date;
  readonly prevHash: string;
  readonly hash: string;
};

/** The actor recorded for work done by the worker rather than a person. */
export const SYSTEM_ACTOR = {
  worker: "system:worker",
  sweep: "system:sweep",
  /** A rotation's schedule. */
  schedule: "system:schedule",
  /** The drift reconciliation (backends compared with the database). */
  drift: "system:drift",
  /** The end of an incident a grant rested on (polled, or a provider's webhook). */
  incident: "system:incident",
  /** The worker's signed checkpoints of the audit trail. */
  checkpoint: "system:checkpoint",
  /** The first writer under a new master key, linking the trail over to it (audit.key_changed). */
  keyring: "system:keyring",
} as const;
