import { z } from "zod";

/**
 * A signed checkpoint of the audit trail: the worker signs the chain head (`seq`, `hash`) at a time
 * with an Ed25519 key only Leasehold holds, and writes it into the trail as an `audit.checkpoint`
 * event, so every sink carries it out of the database. An auditor holding the sink's copy and the
 * public key can later show that the trail once reached `seq` with that `hash`: a database writer who
 * cuts the trail back, head and all, cannot make `audit verify` pass against it.
 *
 * What is signed is `checkpointMessage`: a versioned, line-separated text, so that the bytes are the
 * same in every implementation (no JSON key order to agree on). The signing itself (node:crypto)
 * lives with the keys in the config package; this module stays free of I/O and platform APIs.
 */

/** The first line of every signed message: names the format, so a signature for anything else never fits. */
export const CHECKPOINT_FORMAT = "leasehold-checkpoint-v1";

const hexHash = z.string().regex(/^[0-9a-f]{64}$/, "hash is 64 lower-case hex characters");

/** What a checkpoint event's `data` holds; also the shape of a checkpoint handed to an auditor on its own. */
export const auditCheckpointSchema = z.object({
  /** The newest event the checkpoint covers. */
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** That event's chain hash. */
  hash: hexHash,
  /** When it was signed, exactly as signed (ISO 8601, UTC). */
  at: z.iso.datetime({ offset: false }),
  /** The first 16 hex characters of SHA-256 over the raw 32-byte public key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/, "keyId is 16 lower-case hex characters"),
  /** Ed25519 signature of `checkpointMessage`, base64 (64 bytes). */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, "signature is a base64 Ed25519 signature"),
});
export type AuditCheckpoint = z.output<typeof auditCheckpointSchema>;

/** The signed text: `leasehold-checkpoint-v1\n<seq>\n<hash>\n<at>`. */
export const checkpointMessage = (head: {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}): string => `${CHECKPOINT_FORMAT}\n${head.seq}\n${head.hash}\n${head.at}`;

/** How often the worker writes a checkpoint (leasehold.yaml's `auditCheckpoints`). */
export type CheckpointSchedule = {
  /** After this many events since the last checkpoint… */
  readonly everyEvents: number;
  /** …or this long after it, whichever comes first; never while the trail stands still. */
  readonly everySeconds: number;
};

/**
 * Whether a checkpoint is due now. `head` is the newest event's seq; `last` the newest checkpoint
 * event (its own seq and time), if any. The checkpoint event itself moves the trail, so "the trail
 * moved" means an event after the last checkpoint event.
 */
export function checkpointDue(
  schedule: CheckpointSchedule,
  head: number,
  last: { readonly seq: number; readonly at: Date } | undefined,
  now: Date,
): boolean {
  if (last === undefined) return head > 0;
  const since = head - last.seq;
  if (since <= 0) return false;
  return since >= schedule.everyEvents || now.getTime() - last.at.getTime() >= schedule.everySeconds * 1000;
}
