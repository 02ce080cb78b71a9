import { auditSinkNameSchema } from "@leasehold/domain";
import { z } from "zod";

/**
 * leasehold.yaml's settings of an S3 audit sink (`kind: s3`): batches of the audit trail as objects
 * under Object Lock, so nobody (compliance mode: not even the account's root) can remove or rewrite
 * them before `retentionDays` have passed. The bucket must have Object Lock enabled.
 */

/** S3's rules for a general purpose bucket's name. */
const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Slash-separated segments of characters S3 calls safe; no leading or trailing slash, no `.`/`..`. */
const PREFIX = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9!_.*'()-]+(?:\/[A-Za-z0-9!_.*'()-]+)*$/;

export const s3AuditSinkSchema = z
  .object({
    /** Its cursor is kept under this name (the same rule as every sink's name). */
    name: auditSinkNameSchema,
    kind: z.literal("s3"),
    bucket: z.string().trim().regex(BUCKET_NAME, "is an S3 bucket name (3–63 of a–z, 0–9, '.', '-')"),
    /** Objects are written as `<prefix>/<first seq>-<last seq>.jsonl`. */
    prefix: z
      .string()
      .trim()
      .max(512)
      .regex(PREFIX, "is a key prefix like leasehold/audit (no leading or trailing '/')")
      .default("leasehold-audit"),
    region: z
      .string()
      .trim()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, "is an AWS region, like eu-west-1"),
    /** How long each object stays locked, in days (1 to 10 years). */
    retentionDays: z.int().min(1).max(3650),
    /** `compliance`: nobody can shorten the lock. `governance`: holders of s3:BypassGovernanceRetention can. */
    mode: z.enum(["compliance", "governance"]).default("compliance"),
  })
  .strict();

export type S3AuditSinkSettings = z.output<typeof s3AuditSinkSchema>;

/**
 * `s3://bucket/prefix` (as `leasehold audit verify --checkpoint` takes it) → bucket and prefix, held to
 * the same rules as the sink's settings. Throws a message that says what is expected.
 */
export function parseS3AuditLocation(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/(.+?)\/?$/.exec(url.trim());
  const bucket = s3AuditSinkSchema.shape.bucket.safeParse(match?.[1]);
  const prefix = s3AuditSinkSchema.shape.prefix.safeParse(match?.[2]);
  if (match === null || !bucket.success || !prefix.success) {
    throw new Error(`"${url.slice(0, 200)}" is not an S3 location like s3://my-audit-bucket/leasehold-audit`);
  }
  return { bucket: bucket.data, prefix: prefix.data };
}
