import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { AuditEvent } from "@leasehold/domain";
import { toAwsError } from "../aws-sts/aws-errors.js";
import { type S3AuditConnection, s3ClientFor } from "./s3-audit-client.js";
import { batchRange, parseBatch } from "./s3-audit-objects.js";

export type ReadS3AuditOptions = S3AuditConnection & {
  readonly bucket: string;
  readonly prefix: string;
  /** Only events after this seq (objects wholly at or before it are not fetched). Default: all. */
  readonly afterSeq?: number | undefined;
  /** Keys per ListObjectsV2 page, 1–1000 (S3's maximum and default). */
  readonly pageSize?: number | undefined;
};

type Batch = { key: string; first: number; last: number };

/** The SDK's errors become UpstreamErrors saying which call failed; parsing errors pass as they are. */
const upstream = (what: string) => (error: unknown) => {
  throw toAwsError(error, `S3 ${what}`);
};

/** Every batch object under the prefix, in seq order (names are zero-padded, so they sort numerically). */
async function listBatches(s3: S3Client, bucket: string, prefix: string, pageSize: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  let token: string | undefined;
  do {
    const page = await s3
      .send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: `${prefix}/`,
          ContinuationToken: token,
          MaxKeys: pageSize,
        }),
      )
      .catch(upstream(`ListObjectsV2 s3://${bucket}/${prefix}/`));
    for (const item of page.Contents ?? []) {
      const range = batchRange(prefix, item.Key ?? "");
      if (range !== undefined && item.Key !== undefined) batches.push({ key: item.Key, ...range });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return batches.sort((a, b) => a.first - b.first || a.last - b.last);
}

async function readBatch(s3: S3Client, bucket: string, batch: Batch): Promise<AuditEvent[]> {
  const object = await s3
    .send(new GetObjectCommand({ Bucket: bucket, Key: batch.key }))
    .catch(upstream(`GetObject s3://${bucket}/${batch.key}`));
  const text = await object.Body?.transformToString("utf8").catch(
    upstream(`GetObject s3://${bucket}/${batch.key}`),
  );
  const events = parseBatch(batch.key, text ?? "");
  const named = events[0]?.seq === batch.first && events.at(-1)?.seq === batch.last;
  if (!named || events.some((event, i) => event.seq !== batch.first + i)) {
    throw new Error(
      `${batch.key} does not hold exactly the events ${batch.first}–${batch.last} its name says`,
    );
  }
  return events;
}

/**
 * The audit events an S3 sink stored under `prefix`, in seq order, each once. Events held by two
 * objects (a redelivery that overlapped) must be identical, or this throws naming the seq; a gap is
 * returned as it is, for the verifier to report. Objects under the prefix with other names are ignored.
 */
export async function readS3AuditObjects(options: ReadS3AuditOptions): Promise<AuditEvent[]> {
  const s3 = s3ClientFor(options);
  const afterSeq = options.afterSeq ?? -1;
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 1000), 1), 1000);
  try {
    const batches = (await listBatches(s3, options.bucket, options.prefix, pageSize)).filter(
      (b) => b.last > afterSeq,
    );
    const bySeq = new Map<number, AuditEvent>();
    for (const batch of batches) {
      for (const event of await readBatch(s3, options.bucket, batch)) {
        if (event.seq <= afterSeq) continue;
        const seen = bySeq.get(event.seq);
        if (seen !== undefined && seen.hash !== event.hash) {
          throw new Error(`Two objects under ${options.prefix}/ hold different events for seq ${event.seq}`);
        }
        bySeq.set(event.seq, event);
      }
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  } finally {
    if (options.client === undefined) s3.destroy();
  }
}
