import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkpointKeyId, parseCheckpointPublicKey, verifyCheckpoint } from "@leasehold/config";
import { type AuditCheckpoint, auditCheckpointSchema, UpstreamError } from "@leasehold/domain";
import { CliError, EXIT } from "./exit-codes.js";

/**
 * Checkpoints as auditors hold them: a JSON-lines audit sink file (each `audit.checkpoint` event in
 * it, whatever the other lines are), or one checkpoint on its own (`{seq, hash, at, keyId,
 * signature}`, or the whole event). Lines that are not checkpoints are passed over, and so is a last
 * line cut short by a crash; a checkpoint line that does not parse is reported, never skipped.
 */

/** `where` says where it was found, for messages: `line 12` of a file, `event 40` of an S3 sink. */
export type FoundCheckpoint = { readonly where: string; readonly checkpoint: AuditCheckpoint };

/** A file larger than this is not read whole: sink files are rotated by size. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * The checkpoints at `location`: a file, or `s3://bucket/prefix` where an S3 audit sink stores its
 * objects (read with the AWS SDK's credential chain; every object is read, to check every checkpoint).
 */
export async function readCheckpoints(
  location: string,
  s3: { readonly region: string; readonly endpoint: string | undefined },
): Promise<FoundCheckpoint[]> {
  if (!location.startsWith("s3://")) return readCheckpointFile(location);
  // Loaded only for s3://: the providers (and the AWS SDK) stay out of every other command's start.
  const { parseS3AuditLocation, readS3AuditObjects } = await import("@leasehold/providers");
  let where: { bucket: string; prefix: string };
  try {
    where = parseS3AuditLocation(location);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.usage);
  }
  const events = await readS3AuditObjects({ ...s3, ...where }).catch((error: unknown) => {
    // S3 refused or could not be reached: say so, with the exit code for "try again later".
    if (error instanceof UpstreamError) throw new CliError(error.message, EXIT.unavailable);
    throw error;
  });
  const found = events
    .filter((event) => event.action === "audit.checkpoint")
    .map((event) => ({
      where: `event ${event.seq}`,
      checkpoint: checkpointOf(event, `${location} event ${event.seq}`) as AuditCheckpoint,
    }));
  if (found.length === 0) throw new CliError(`${location} holds no audit checkpoint`, EXIT.failure);
  return found;
}

export function readCheckpointFile(path: string): FoundCheckpoint[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      EXIT.usage,
    );
  }
  if (text.length > MAX_FILE_BYTES) throw new CliError(`${path} is larger than 512 MiB`, EXIT.usage);
  const found = checkpointsIn(text, path);
  if (found.length === 0) throw new CliError(`${path} holds no audit checkpoint`, EXIT.failure);
  return found;
}

export function checkpointsIn(text: string, source: string): FoundCheckpoint[] {
  const whole = parseJson(text);
  if (whole !== null && typeof whole === "object" && !Array.isArray(whole)) {
    const checkpoint = checkpointOf(whole, source);
    return checkpoint ? [{ where: "line 1", checkpoint }] : [];
  }
  const found: FoundCheckpoint[] = [];
  text.split("\n").forEach((line, index) => {
    const value = parseJson(line);
    if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) return;
    const checkpoint = checkpointOf(value, `${source} line ${index + 1}`);
    if (checkpoint) found.push({ where: `line ${index + 1}`, checkpoint });
  });
  return found;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The checkpoint a line holds, undefined when it is some other event; a malformed checkpoint stops. */
function checkpointOf(value: object, where: string): AuditCheckpoint | undefined {
  const record = value as Record<string, unknown>;
  const isEvent = record.action === "audit.checkpoint";
  const isBare = !("action" in record) && "signature" in record && "keyId" in record;
  if (!isEvent && !isBare) return undefined;
  const parsed = auditCheckpointSchema.safeParse(isEvent ? record.data : record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `${where}: not a valid checkpoint (${issue?.path.join(".") || "data"}: ${issue?.message ?? "malformed"})`,
      EXIT.failure,
    );
  }
  return parsed.data;
}

/** Public keys from PEM files, by key id. */
export function readPublicKeys(paths: readonly string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const path of paths) {
    let pem: string;
    try {
      pem = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(
        `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
        EXIT.usage,
      );
    }
    try {
      const key = parseCheckpointPublicKey(pem);
      keys.set(checkpointKeyId(key), key);
    } catch (error) {
      throw new CliError(`${path}: ${(error as Error).message}`, EXIT.usage);
    }
  }
  return keys;
}

/**
 * What is wrong with the checkpoints found: a signature that does not verify (or a key id none of
 * the keys has), and a checkpoint covering no more than one before it, which means the trail was set
 * back and signed again. Empty: every one is authentic and they only move forward.
 */
export function checkpointProblems(
  found: readonly FoundCheckpoint[],
  keys: ReadonlyMap<string, KeyObject>,
): string[] {
  const problems: string[] = [];
  let before: FoundCheckpoint | undefined;
  for (const entry of found) {
    const { checkpoint, where } = entry;
    const key = keys.get(checkpoint.keyId);
    const check = key
      ? verifyCheckpoint(checkpoint, key)
      : {
          ok: false as const,
          reason: `it names key ${checkpoint.keyId}, and no public key given has that id`,
        };
    if (!check.ok) problems.push(`${where} (checkpoint of event ${checkpoint.seq}): ${check.reason}`);
    if (before && checkpoint.seq <= before.checkpoint.seq) {
      problems.push(
        `${where}: the checkpoint of event ${checkpoint.seq} follows one of event ${before.checkpoint.seq} (${before.where}): the trail was set back and signed again`,
      );
    }
    before = entry;
  }
  return problems;
}
