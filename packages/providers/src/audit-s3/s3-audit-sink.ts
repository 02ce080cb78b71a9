import { createHash } from "node:crypto";
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type AuditEvent, type AuditSink, UpstreamError } from "@leasehold/domain";
import { toAwsError } from "../aws-sts/aws-errors.js";
import { type S3AuditConnection, s3ClientFor } from "./s3-audit-client.js";
import { batchBody, batchKey, batchRange, batchStartPrefix } from "./s3-audit-objects.js";
import type { S3AuditSinkSettings } from "./s3-audit-schema.js";

const DAY_MS = 24 * 3600 * 1000;

export type S3AuditSinkOptions = Omit<S3AuditSinkSettings, "kind"> &
  Omit<S3AuditConnection, "region"> & {
    /** Sets each object's retain-until date (now + retentionDays). Default: the wall clock. */
    readonly clock?: (() => Date) | undefined;
  };

/**
 * How far the batch starting at `first` is already stored: the highest `last` of the objects whose
 * name starts at `first` (a redelivery after a crash starts where the stored batch started, though it
 * may hold more events if more were written meanwhile), or undefined when there is none.
 */
async function storedThrough(s3: S3Client, bucket: string, prefix: string, first: number) {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: batchStartPrefix(prefix, first), MaxKeys: 1000 }),
  );
  const lasts = (listed.Contents ?? []).flatMap((item) => {
    const range = batchRange(prefix, item.Key ?? "");
    return range === undefined ? [] : [range.last];
  });
  return lasts.length === 0 ? undefined : Math.max(...lasts);
}

/** True when S3 refused a conditional put because the key exists (another writer got there first). */
const alreadyExists = (error: unknown): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 412;

/**
 * The S3 Object Lock audit sink: each delivered batch becomes one locked object
 * `<prefix>/<first seq>-<last seq>.jsonl` (s3-audit-objects.ts). Before writing it looks for an object
 * starting at the batch's first seq: a redelivery after a crash finds it and writes only what is not
 * yet stored, so every event lands in exactly one object. Objects are put with Content-MD5 (Object
 * Lock requires an integrity header) and `If-None-Match: *`, and locked until now + retentionDays.
 */
export function createS3AuditSink(options: S3AuditSinkOptions): AuditSink {
  const s3 = s3ClientFor(options);
  const clock = options.clock ?? (() => new Date());
  const { bucket, prefix } = options;
  // Through which seq this process has stored, so a smaller batch redelivered after a crash that
  // follows a bigger stored one is not written twice (a fresh process finds it by listing).
  let highestStored = 0;

  async function put(events: readonly AuditEvent[]): Promise<void> {
    const first = events[0]?.seq ?? 0;
    const last = events.at(-1)?.seq ?? 0;
    const body = batchBody(events);
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: batchKey(prefix, first, last),
          Body: body,
          ContentType: "application/x-ndjson",
          ContentMD5: createHash("md5").update(body).digest("base64"),
          IfNoneMatch: "*",
          ObjectLockMode: options.mode === "compliance" ? "COMPLIANCE" : "GOVERNANCE",
          ObjectLockRetainUntilDate: new Date(clock().getTime() + options.retentionDays * DAY_MS),
        }),
      );
    } catch (error) {
      if (!alreadyExists(error)) throw toAwsError(error, `S3 audit sink ${options.name}: PutObject`);
    }
  }

  return {
    name: options.name,
    async deliver(batch) {
      const events = batch.filter((event) => event.seq > highestStored);
      const first = events[0]?.seq;
      if (first === undefined) return;
      if (events.some((event, i) => event.seq !== first + i)) {
        throw new UpstreamError(`S3 audit sink ${options.name}: the events to deliver are not consecutive`, {
          retryable: false,
          mayHaveReached: false,
        });
      }
      let through: number | undefined;
      try {
        through = await storedThrough(s3, bucket, prefix, first);
      } catch (error) {
        throw toAwsError(error, `S3 audit sink ${options.name}: ListObjectsV2`);
      }
      const missing = through === undefined ? events : events.filter((event) => event.seq > through);
      if (missing.length > 0) await put(missing);
      highestStored = Math.max(highestStored, through ?? 0, events.at(-1)?.seq ?? 0);
    },
    async close() {
      if (options.client === undefined) s3.destroy();
    },
  };
}
