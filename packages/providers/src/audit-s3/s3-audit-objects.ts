import { type AuditEvent, type AuditSubjectType, auditActions } from "@leasehold/domain";
import { z } from "zod";

/**
 * How a batch of the audit trail is laid out in S3: one object per batch, named by its first and last
 * `seq` zero-padded to 20 digits (so names sort like numbers, and a batch has exactly one name), holding
 * one JSON line per event: every field, `at` as ISO 8601 (the shape the API's `audit.list` renders).
 */

const SEQ_DIGITS = 20;
const OBJECT_NAME = /^(\d{20})-(\d{20})\.jsonl$/;

const padded = (seq: number): string => String(seq).padStart(SEQ_DIGITS, "0");

/** `<prefix>/<first>-<last>.jsonl`. */
export const batchKey = (prefix: string, first: number, last: number): string =>
  `${prefix}/${padded(first)}-${padded(last)}.jsonl`;

/** Every key of batches starting at `first` begins with this. */
export const batchStartPrefix = (prefix: string, first: number): string => `${prefix}/${padded(first)}-`;

/** The seq range a key under `prefix` names, or undefined for any other object. */
export function batchRange(prefix: string, key: string): { first: number; last: number } | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const match = OBJECT_NAME.exec(key.slice(prefix.length + 1));
  if (match === null) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last) return undefined;
  return { first, last };
}

/** The body of one batch: JSON lines, newline-terminated. */
export const batchBody = (events: readonly AuditEvent[]): string =>
  events.map((event) => `${JSON.stringify({ ...event, at: event.at.toISOString() })}\n`).join("");

const eventLineSchema = z
  .object({
    seq: z.int().min(0),
    at: z.iso.datetime(),
    actor: z.string().max(1024),
    action: z.enum(auditActions),
    // A string here: the action names its subject type (checked below), so new types need no change.
    subjectType: z.string().max(64),
    subjectId: z.string().max(1024),
    data: z.record(z.string(), z.json()),
    prevHash: z.string().max(256),
    hash: z.string().max(256),
  })
  .strict()
  .refine(
    (event) => event.action.startsWith(`${event.subjectType}.`),
    "subjectType does not match the action",
  );

/** Parses a batch's body; throws naming the key and line of anything that is not an audit event. */
export function parseBatch(key: string, body: string): AuditEvent[] {
  const lines = body.split("\n").filter((line) => line !== "");
  return lines.map((line, index) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${key} line ${index + 1} is not JSON`);
    }
    const parsed = eventLineSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${key} line ${index + 1} is not an audit event: ${parsed.error.issues[0]?.message ?? ""}`,
      );
    }
    const { at, subjectType, ...rest } = parsed.data;
    // The refinement above tied subjectType to the action's own prefix, which is what the type says.
    return { ...rest, subjectType: subjectType as AuditSubjectType, at: new Date(at) };
  });
}
