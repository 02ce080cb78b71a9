import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { AuditEvent } from "@leasehold/domain";
import { UpstreamError } from "@leasehold/domain";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readS3AuditObjects } from "./s3-audit-reader.js";
import { parseS3AuditLocation, s3AuditSinkSchema } from "./s3-audit-schema.js";
import { createS3AuditSink } from "./s3-audit-sink.js";

const BUCKET = "leasehold-audit-locked";
const PLAIN = "leasehold-audit-plain";
const REGION = "eu-west-1";
const NOW = new Date("2026-12-06T10:00:00Z");
const DAY_MS = 24 * 3600 * 1000;

const events = (from: number, to: number): AuditEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      at: new Date(NOW.getTime() + seq * 1000),
      actor: "dev@example.com",
      action: "grant.issued",
      subjectType: "grant",
      subjectId: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
      data: { target: "prod-admin", note: `event ${seq} with "quotes"\nand a newline` },
      prevHash: (seq - 1).toString(16).padStart(64, "0"),
      hash: seq.toString(16).padStart(64, "0"),
    };
  });

const key = (first: number, last: number) =>
  `audit/prod/${String(first).padStart(20, "0")}-${String(last).padStart(20, "0")}.jsonl`;

describe("the S3 Object Lock audit sink against the AWS stand-in", () => {
  let sandbox: AwsSandbox;
  const connection = () => ({
    region: REGION,
    endpoint: sandbox.url,
    credentials: SANDBOX_ACCESS_KEY,
    maxAttempts: 1,
  });
  const sink = (overrides: { bucket?: string; mode?: "compliance" | "governance" } = {}) =>
    createS3AuditSink({
      ...s3AuditSinkSchema.parse({
        name: "s3-archive",
        kind: "s3",
        bucket: overrides.bucket ?? BUCKET,
        prefix: "audit/prod",
        region: REGION,
        retentionDays: 400,
        ...(overrides.mode === undefined ? {} : { mode: overrides.mode }),
      }),
      ...connection(),
      clock: () => NOW,
    });
  const read = (options: { pageSize?: number; afterSeq?: number } = {}) =>
    readS3AuditObjects({ ...connection(), bucket: BUCKET, prefix: "audit/prod", ...options });
  const puts = () => sandbox.calls.filter((call) => call.service === "s3" && call.action === "PutObject");

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [],
      buckets: [
        { name: BUCKET, region: REGION, objectLock: {} },
        { name: PLAIN, region: REGION },
      ],
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("stores a batch as one object, locked in compliance mode for retentionDays", async () => {
    await sink().deliver(events(1, 3));
    const versions = sandbox.s3Versions(BUCKET, key(1, 3));
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      lockMode: "COMPLIANCE",
      retainUntil: new Date(NOW.getTime() + 400 * DAY_MS),
      contentType: "application/x-ndjson",
    });
    const lines = (versions[0]?.body ?? "").split("\n");
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({
      seq: 2,
      at: "2026-12-06T10:00:02.000Z",
      action: "grant.issued",
    });
    const s3 = new S3Client({ ...connection(), forcePathStyle: true });
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key(1, 3), VersionId: versions[0]?.versionId })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("uses governance mode when configured", async () => {
    await sink({ mode: "governance" }).deliver(events(1, 1));
    expect(sandbox.s3Versions(BUCKET, key(1, 1))).toMatchObject([{ lockMode: "GOVERNANCE" }]);
  });

  it("skips a batch redelivered after a crash, and stores only the new tail of a longer one", async () => {
    await sink().deliver(events(1, 3));
    // A fresh sink, as after a restart: it must find what is stored, not remember it.
    await sink().deliver(events(1, 3));
    expect(puts()).toHaveLength(1);
    await sink().deliver(events(1, 5));
    expect(sandbox.s3Versions(BUCKET, key(4, 5))).toHaveLength(1);
    expect(sandbox.s3Versions(BUCKET, key(1, 5))).toEqual([]);
    expect((await read()).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("reads every event back in seq order across list pages, equal to what was delivered", async () => {
    const delivering = sink();
    const batches = [events(1, 2), events(3, 3), events(4, 9), events(10, 11), events(12, 15)];
    for (const batch of batches) await delivering.deliver(batch);
    const read15 = await read({ pageSize: 2 });
    expect(read15).toEqual(events(1, 15));
    const pages = sandbox.calls.filter((call) => call.action === "ListObjectsV2" && call.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect((await read({ afterSeq: 10 })).map((event) => event.seq)).toEqual([11, 12, 13, 14, 15]);
  });

  it("refuses to read an object whose events are not the ones its name says", async () => {
    await sink().deliver(events(1, 2));
    const s3 = new S3Client({ ...connection(), forcePathStyle: true });
    const forged = `${JSON.stringify({ ...events(7, 7)[0], at: NOW.toISOString() })}\n`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(3, 3), Body: forged }));
    await expect(read()).rejects.toThrow(`${key(3, 3)} does not hold exactly the events 3–3 its name says`);
  });

  it("fails without retrying when the bucket has no Object Lock, storing nothing", async () => {
    const error = await sink({ bucket: PLAIN })
      .deliver(events(1, 1))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: false, upstreamCode: "InvalidRequest" });
    expect((error as Error).message).toContain("Bucket is missing Object Lock Configuration");
    expect(sandbox.s3Versions(PLAIN, key(1, 1))).toEqual([]);
  });

  it("fails retryably while S3 is unreachable, then delivers once it is back", async () => {
    const delivering = sink();
    await sandbox.goDown();
    try {
      const error = await delivering.deliver(events(1, 2)).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "UpstreamError", retryable: true });
    } finally {
      await sandbox.comeBack();
    }
    await delivering.deliver(events(1, 2));
    expect((await read()).map((event) => event.seq)).toEqual([1, 2]);
  });

  it("refuses events that are not consecutive, and delivers nothing for an empty batch", async () => {
    await sink().deliver([]);
    const gap = [...events(1, 1), ...events(3, 3)];
    await expect(sink().deliver(gap)).rejects.toMatchObject({ name: "UpstreamError", retryable: false });
    expect(puts()).toEqual([]);
  });
});

describe("s3AuditSinkSchema", () => {
  const valid = {
    name: "s3-archive",
    kind: "s3",
    bucket: "my-audit",
    region: "eu-west-1",
    retentionDays: 365,
  };

  it("defaults to compliance mode and a prefix", () => {
    expect(s3AuditSinkSchema.parse(valid)).toEqual({
      ...valid,
      prefix: "leasehold-audit",
      mode: "compliance",
    });
  });

  it.each([
    ["retentionDays 0", { retentionDays: 0 }],
    ["retentionDays over ten years", { retentionDays: 3651 }],
    ["a prefix with a leading slash", { prefix: "/audit" }],
    ["a prefix with a trailing slash", { prefix: "audit/" }],
    ["a prefix with ..", { prefix: "audit/../x" }],
    ["an invalid bucket name", { bucket: "My_Bucket" }],
    ["an unknown mode", { mode: "legal-hold" }],
    ["a region that is not one", { region: "europe" }],
    ["an unknown field", { endpoint: "http://x" }],
  ])("refuses %s", (_, change) => {
    expect(s3AuditSinkSchema.safeParse({ ...valid, ...change }).success).toBe(false);
  });
});

describe("parseS3AuditLocation", () => {
  it("splits an s3:// location into bucket and prefix", () => {
    expect(parseS3AuditLocation("s3://my-audit/leasehold/prod/")).toEqual({
      bucket: "my-audit",
      prefix: "leasehold/prod",
    });
  });

  it.each([
    "my-audit/x",
    "s3://my-audit",
    "s3://my-audit/",
    "s3://My_Audit/x",
    "s3://my-audit//x",
    "https://my-audit/x",
  ])("refuses %s", (url) => {
    expect(() => parseS3AuditLocation(url)).toThrow(
      "is not an S3 location like s3://my-audit-bucket/leasehold-audit",
    );
  });
});
