import { z } from "zod";
import type { AuditAction, AuditSubjectOf, AuditSubjectType, JsonValue } from "./audit.js";
import { auditCheckpointSchema } from "./audit-checkpoint.js";

/**
 * The `data` each audit action carries, one schema per action. Writers are typed against these (see
 * `AuditEventInput`), and readers parse with `readAuditEvent` instead of poking at untyped fields.
 * Unknown keys are dropped when reading, so an older or newer writer's extra fields do no harm; a
 * missing or mistyped field is a malformed event. None of these fields may ever hold a secret.
 */
const text = z.string().max(4000);
const id = z.string().min(1).max(255);
const isoTime = z.string().max(64);
const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);
const none = z.object({});
/** The policies that decided (their ids); empty in events written before policies were Cedar. */
const policies = z.array(id).max(100).default([]);
/** How an approver (or a person breaking glass) authenticated; null in events from before step-up. */
const authentication = z
  .object({
    method: z.enum(["console", "token", "slack"]),
    authTime: isoTime.nullable(),
    acr: z.string().max(255).nullable(),
  })
  .nullable()
  .default(null);

export const auditDataSchemas = {
  "request.created": z.object({
    targetId: id,
    durationSeconds: z.number(),
    ticket: text.nullable(),
    reason: text,
    /** The scopes asked for; events from before scopes existed asked for none. */
    scopes: z.array(id).max(50).default([]),
    policies,
  }),
  "request.reviewed": z.object({
    decision: z.enum(["approve", "deny"]),
    comment: text.nullable(),
    policies,
    authentication,
  }),
  /** `approvers` are the people who approved; `policies` the policies that did, when none did (actor `policy:<id>`). */
  "request.approved": z.object({ approvers: z.array(id), policies }),
  "request.denied": z.object({ deniedBy: id.nullable() }),
  "request.cancelled": none,
  "request.expired": z.object({ pendingUntil: isoTime }),
  /** Nobody decided within the target's escalateAfter: the request moved one level up (escalation.ts). */
  "request.escalated": z.object({ fromLevel: z.int().min(0), toLevel: z.int().min(1) }),
  /**
   * Access activated without approval (break-glass): the request is approved as it is made, and a
   * `grant.created` follows in the same transaction. Always broadcast, and reviewed afterwards.
   */
  "request.break_glass": z.object({
    targetId: id,
    durationSeconds: z.number(),
    ticket: text.nullable(),
    reason: text,
    policies,
    scopes: z.array(id).max(50).default([]),
    authentication,
  }),
  /** An approver's verdict on a break-glass after the fact; one per break-glass. */
  "request.break_glass_reviewed": z.object({
    verdict: z.enum(["justified", "unjustified"]),
    comment: text.nullable(),
    policies,
    authentication,
  }),
  "grant.created": z.union([
    z.object({ requestId: id, targetId: id, durationSeconds: z.number() }),
    z.object({ targetId: id, durationSeconds: z.number(), lease: z.literal(true), rule: text, policies }),
  ]),
  "grant.issued": z.object({
    expiresAt: isoTime,
    attempt: z.number(),
    reference: z.record(z.string(), json),
  }),
  "grant.issue_failed": z.object({ error: text, attempts: z.number() }),
  "grant.credentials_read": none,
  "grant.extended": z.object({
    previousExpiresAt: isoTime.nullable(),
    expiresAt: isoTime,
    renewedInPlace: z.boolean(),
    attempt: z.number(),
  }),
  "grant.revoke_requested": z.object({ reason: text.nullable() }),
  "grant.revoked": none,
  "grant.expired": z.object({ deadline: isoTime }),
  "grant.revocation_failed": z.object({ during: z.enum(["revoke", "expire"]), error: text }),
  "grant.released": none,
  "rotation.started": z.object({ rotation: id, trigger: text }),
  "rotation.step": z.object({ rotation: id, step: id }),
  "rotation.succeeded": z.object({ rotation: id, attempts: z.number() }),
  "rotation.failed": z.object({ rotation: id, step: id, error: text, rolledBack: z.boolean() }),
  /**
   * A rotation has not succeeded for two periods of its schedule (subject: the rotation's id, not a
   * run's). One per episode: `lastSuccessRunId` names the success it is measured from (null: none
   * yet, measured from `since`), and a later success starts a new episode.
   */
  "rotation.overdue": z.object({
    rotation: id,
    lastSuccessRunId: id.nullable(),
    since: isoTime,
    periodSeconds: z.number(),
  }),
  /**
   * Something on a backend that no grant owns, removed by the drift reconciliation (subject: the
   * target). `removed` is its name (a role, a policy, a token's grant and accessor fingerprint),
   * never a secret; `grantId` is the grant its name points to, when one is known.
   */
  "drift.corrected": z.object({
    kind: z.enum(["sql-role", "iam-inline-policy", "vault-token"]),
    backend: id,
    targetId: id,
    removed: text,
    grantId: id.nullable(),
    reason: z.enum(["unknown-grant", "grant-ended"]),
  }),
  /**
   * A role's revocations outgrew its inline policy budget (subject: the role ARN): every session
   * issued before `cutoffAt` is refused except the `kept` live grants'; `ended` live grants did not
   * fit and were ended.
   */
  "revocation.cutoff": z.object({
    role: text,
    cutoffAt: isoTime,
    revocations: z.number(),
    kept: z.number(),
    ended: z.number(),
  }),
  /**
   * An approver pre-approved `principalId` for `targetId` during the window (subject: the
   * pre-approval); requests inside it are auto-approved by policy. `policies` allowed the approver.
   */
  "preapproval.created": z.object({
    targetId: id,
    principalId: id,
    startsAt: isoTime,
    endsAt: isoTime,
    reason: text,
    policies,
    authentication,
  }),
  /** The pre-approval was withdrawn before its window ended (the actor withdrew it). */
  "preapproval.revoked": z.object({ targetId: id, principalId: id }),
  /**
   * Someone signed in to the console (subject: the session's public id; actor: the person): when the
   * identity provider says they authenticated, how (`acr`), and until when the session lasts.
   */
  "session.started": z.object({ authTime: isoTime.nullable(), acr: text.nullable(), expiresAt: isoTime }),
  /** The person signed out, or signed in again in the same browser (`reason`). */
  "session.ended": z.object({ reason: text }),
  /** An admin (the actor) ended someone's session (`principalId`) at once. */
  "session.revoked": z.object({ principalId: id }),
  /**
   * The worker signed the trail's head as it stood: `seq` and `hash` of the newest event before this
   * one (also the subject id), at `at`, with the checkpoint key `keyId` (audit-checkpoint.ts). Copied
   * to every sink with the other events, it anchors the trail outside the database.
   */
  "audit.checkpoint": auditCheckpointSchema,
  /**
   * The trail goes on under another master key (subject: the new key's id). Linked under the old key
   * `fromKeyId`; `agreement` is an HMAC under the new key's chain key over both ids and the previous
   * event's hash, so only a holder of both keys can write one (audit-log.ts checks it).
   */
  "audit.key_changed": z.object({
    fromKeyId: id,
    toKeyId: id,
    agreement: z.string().regex(/^[0-9a-f]{64}$/),
  }),
} as const satisfies { readonly [A in AuditAction]: z.ZodType<{ readonly [key: string]: JsonValue }> };

/** The `data` of one audit action. */
export type AuditData<A extends AuditAction> = z.output<(typeof auditDataSchemas)[A]>;

/** A stored event whose `data` was checked against its action's schema: switch on `action` to narrow it. */
export type TypedAuditEvent = {
  [A in AuditAction]: {
    readonly seq: number;
    readonly at: Date;
    readonly actor: string;
    readonly action: A;
    readonly subjectType: AuditSubjectOf<A>;
    readonly subjectId: string;
    readonly data: AuditData<A>;
  };
}[AuditAction];

/**
 * The event with its `data` parsed for its action, or undefined when the stored data does not fit
 * (an event written before its schema existed, or by hand), or when its subject type is not the one
 * its action names: the caller decides what a gap means.
 */
export function readAuditEvent(event: {
  readonly seq: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: AuditAction;
  readonly subjectType: AuditSubjectType;
  readonly subjectId: string;
  readonly data: unknown;
}): TypedAuditEvent | undefined {
  if (!event.action.startsWith(`${event.subjectType}.`)) return undefined;
  const parsed = auditDataSchemas[event.action].safeParse(event.data);
  if (!parsed.success) return undefined;
  // The schema looked up by `action` produced `data`, and the subject type was checked against the
  // action: the fields agree, though TypeScript cannot follow the lookup.
  return {
    seq: event.seq,
    at: event.at,
    actor: event.actor,
    action: event.action,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    data: parsed.data,
  } as TypedAuditEvent;
}

/**
 * What a use case records, one shape per action (a union: the `action` decides the type of `data`;
 * see audit-data.ts). `data` must never hold a secret: ids, names, counts and reasons only.
 */
export type AuditEventInput<A extends AuditAction = AuditAction> = A extends AuditAction
  ? {
      /** A principal id, or `system:<component>` for the worker and the sweep. */
      readonly actor: string;
      readonly action: A;
      readonly subjectType: AuditSubjectOf<A>;
      readonly subjectId: string;
      readonly data: AuditData<A>;
    }
  : never;
