import { z } from "zod";
import { requestedScopesSchema } from "./request-scope.js";
import { targetIdSchema } from "./target.js";
import { boundedText } from "./text.js";

/**
 * Input schemas shared by every edge (API, Slack, CLI, worker). Every field is bounded; what policy
 * bounds further (a target's maximum duration, its ticket format) is checked in the use case.
 */

export const idSchema = z.uuid({ error: "must be an id (a UUID)" });

/**
 * Longest lifetime any backend accepts (twelve hours); each provider's duration limits lie within it
 * (packages/providers checks that), and policy narrows it per target.
 */
export const ABSOLUTE_MAX_DURATION_SECONDS = 43_200;

/**
 * Characters a ticket may contain. A ticket is copied into backend labels (an STS session tag, the
 * narrowest of them), so it keeps to what all of them accept; packages/providers checks that.
 */
export const TICKET_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const durationSecondsSchema = z
  .int({ error: "duration must be a whole number of seconds" })
  .min(1, "duration must be at least 1 second")
  .max(ABSOLUTE_MAX_DURATION_SECONDS, `duration must be at most ${ABSOLUTE_MAX_DURATION_SECONDS} seconds`);

export const reasonSchema = boundedText({ min: 3, max: 1000, multiline: true, label: "reason" });

/** A ticket reference. It becomes a backend label (an STS session tag), so it uses only TICKET_CHARACTERS. */
export const ticketSchema = boundedText({ min: 1, max: 128, label: "ticket" }).refine(
  (t) => TICKET_CHARACTERS.test(t),
  {
    message: "ticket may contain only letters, digits, spaces and _.:/=+-@",
  },
);

export const requestAccessInput = z
  .object({
    targetId: targetIdSchema,
    /** Omitted: the target's default. */
    durationSeconds: durationSecondsSchema.optional(),
    reason: reasonSchema,
    ticket: ticketSchema.optional(),
    /** Scopes the target offers; omitted or empty: the target's default scopes. */
    scopes: requestedScopesSchema.optional(),
  })
  .strict();
export type RequestAccessInput = z.infer<typeof requestAccessInput>;

export const reviewInput = z
  .object({
    requestId: idSchema,
    decision: z.enum(["approve", "deny"]),
    comment: boundedText({ min: 1, max: 500, multiline: true, label: "comment" }).optional(),
  })
  .strict()
  .refine((review) => review.decision === "approve" || review.comment !== undefined, {
    message: "a denial needs a comment saying why",
    path: ["comment"],
  });
export type ReviewInput = z.infer<typeof reviewInput>;

export const requestIdInput = z.object({ requestId: idSchema }).strict();
export const grantIdInput = z.object({ grantId: idSchema }).strict();

export const revokeGrantInput = z
  .object({ grantId: idSchema, reason: boundedText({ min: 1, max: 500, label: "reason" }).optional() })
  .strict();
export type RevokeGrantInput = z.infer<typeof revokeGrantInput>;

export const pageInput = z
  .object({
    limit: z.int().min(1).max(200).default(50),
  })
  .strict();

export const listRequestsInput = z
  .object({
    /** `mine`: requests I made; `to-review`: pending requests I may review. */
    view: z.enum(["mine", "to-review"]).default("mine"),
    limit: z.int().min(1).max(200).default(50),
  })
  .strict();

export const auditListInput = z
  .object({
    /** Events after this sequence number, oldest first. */
    afterSeq: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    limit: z.int().min(1).max(500).default(100),
    subjectId: idSchema.optional(),
  })
  .strict();

/**
 * `expectedHead`: a head (sequence and hash, as an earlier verify returned it) recorded outside the
 * database; the trail must still contain it.
 */
export const auditVerifyInput = z
  .object({
    expectedHead: z
      .object({
        seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
        hash: z.string().regex(/^[0-9a-f]{64}$/, "hash is 64 lower-case hex characters"),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({});

export const extendGrantInput = z
  .object({
    grantId: idSchema,
    extendBySeconds: z.int().min(60, "extend by at least 60 seconds").max(ABSOLUTE_MAX_DURATION_SECONDS),
  })
  .strict();
export type ExtendGrantInput = z.infer<typeof extendGrantInput>;

export const createLeaseInput = z
  .object({
    targetId: targetIdSchema,
    /** Omitted: the lesser of the target's default and the lease rule's maximum. */
    ttlSeconds: durationSecondsSchema.optional(),
  })
  .strict();
export type CreateLeaseInput = z.infer<typeof createLeaseInput>;

export const renewLeaseInput = z
  .object({ grantId: idSchema, incrementSeconds: durationSecondsSchema })
  .strict();
export type RenewLeaseInput = z.infer<typeof renewLeaseInput>;

export const rotationIdInput = z.object({ rotationId: targetIdSchema }).strict();
export const rotationRunsInput = z
  .object({ rotationId: targetIdSchema, limit: z.int().min(1).max(100).default(20) })
  .strict();

/** An admin's revocation of a console session, by its public id (never the cookie's value). */
export const sessionIdInput = z.object({ sessionId: idSchema }).strict();
