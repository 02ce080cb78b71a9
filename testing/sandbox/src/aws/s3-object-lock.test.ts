import { Readable } from "node:stream";
import { PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";
import { expectAwsError, iamClient, manualClock, s3Client, stsClient } from "./test-aws-clients.js";

const LOCKED = "audit-locked";
const GOVERNED = "audit-governed";
const DEFAULTED = "audit-default";
const PLAIN = "plain-bucket";
const DAY_MS = 24 * 3600 * 1000;
const ROLE = "arn:aws:iam::123456789012:role/AuditWriter";

describe("S3 with Object Lock on the AWS stand-in, through the real SDK", () => {
  const clock = manualClock();
  let sandbox: AwsSandbox;
  const inDays = (days: number) => new Date(clock.now().getTime() + days * DAY_MS);
  const lockedPut = (bucket: string, key: string, body: string, mode: "COMPLIANCE" | "GOVERNANCE") =>
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ObjectLockMode: mode,
      ObjectLockRetainUntilDate: inDays(30),
    });

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE }],
      clock: clock.now,
      buckets: [
        { name: LOCKED, objectLock: {} },
        { name: GOVERNED, objectLock: {} },
        { name: DEFAULTED, objectLock: { defaultRetention: { mode: "COMPLIANCE", days: 7 } } },
        { name: PLAIN },
        { name: "eu-bucket", region: "eu-west-1" },
      ],
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("stores a locked object and reports its retention on HEAD and GET", async () => {
    const s3 = s3Client(sandbox);
    const put = await s3.send(lockedPut(LOCKED, "a/b c.jsonl", '{"seq":1}\n', "COMPLIANCE"));
    expect(put.VersionId).toBeTruthy();
    const head = await s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: "a/b c.jsonl" }));
    expect(head).toMatchObject({ ObjectLockMode: "COMPLIANCE", ContentLength: 10, VersionId: put.VersionId });
    expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe(inDays(30).toISOString());
    const got = await s3.send(new GetObjectCommand({ Bucket: LOCKED, Key: "a/b c.jsonl" }));
    expect(await got.Body?.transformToString()).toBe('{"seq":1}\n');
    expect(sandbox.s3Versions(LOCKED, "a/b c.jsonl")).toMatchObject([
      { lockMode: "COMPLIANCE", retainUntil: inDays(30), body: '{"seq":1}\n', deleteMarker: false },
    ]);
  });

  it("refuses to delete a version under compliance retention, even after a delete marker", async () => {
    const s3 = s3Client(sandbox);
    const { VersionId } = await s3.send(lockedPut(LOCKED, "k", "x", "COMPLIANCE"));
    await expectAwsError(s3.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: "k", VersionId })), {
      code: "AccessDenied",
      status: 403,
      message: "Access Denied because object protected by object lock.",
    });
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: "k" }));
    expect(marker.DeleteMarker).toBe(true);
    await expect(s3.send(new GetObjectCommand({ Bucket: LOCKED, Key: "k" }))).rejects.toMatchObject({
      name: "NoSuchKey",
    });
    const kept = await s3.send(new GetObjectCommand({ Bucket: LOCKED, Key: "k", VersionId }));
    expect(await kept.Body?.transformToString()).toBe("x");
    await expectAwsError(
      s3.send(
        new DeleteObjectCommand({ Bucket: LOCKED, Key: "k", VersionId, BypassGovernanceRetention: true }),
      ),
      { code: "AccessDenied", status: 403 },
    );
    clock.advanceSeconds(31 * 24 * 3600);
    try {
      const late = s3Client(sandbox, { clockOffsetSeconds: 31 * 24 * 3600 });
      await late.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: "k", VersionId }));
    } finally {
      clock.advanceSeconds(-31 * 24 * 3600);
    }
    expect(sandbox.s3Versions(LOCKED, "k").map((v) => v.deleteMarker)).toEqual([true]);
  });

  it("lets a governance-mode version go only with the bypass header", async () => {
    const s3 = s3Client(sandbox);
    const { VersionId } = await s3.send(lockedPut(GOVERNED, "g", "x", "GOVERNANCE"));
    await expectAwsError(s3.send(new DeleteObjectCommand({ Bucket: GOVERNED, Key: "g", VersionId })), {
      code: "AccessDenied",
      status: 403,
    });
    await s3.send(
      new DeleteObjectCommand({ Bucket: GOVERNED, Key: "g", VersionId, BypassGovernanceRetention: true }),
    );
    expect(sandbox.s3Versions(GOVERNED, "g")).toEqual([]);
  });

  it("refuses lock headers on a bucket without Object Lock, storing nothing", async () => {
    await expectAwsError(s3Client(sandbox).send(lockedPut(PLAIN, "k", "x", "COMPLIANCE")), {
      code: "InvalidRequest",
      status: 400,
      message: "Bucket is missing Object Lock Configuration",
    });
    expect(sandbox.s3Versions(PLAIN, "k")).toEqual([]);
  });

  it("refuses a retention put without Content-MD5 or a checksum, explicit or by default retention", async () => {
    const bare = s3Client(sandbox, { checksums: "WHEN_REQUIRED" });
    const message =
      "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters";
    await expectAwsError(bare.send(lockedPut(LOCKED, "k", "x", "COMPLIANCE")), {
      code: "InvalidRequest",
      status: 400,
      message,
    });
    await expectAwsError(bare.send(new PutObjectCommand({ Bucket: DEFAULTED, Key: "k", Body: "x" })), {
      code: "InvalidRequest",
      status: 400,
      message,
    });
    // Without retention no integrity header is needed.
    await bare.send(new PutObjectCommand({ Bucket: PLAIN, Key: "k", Body: "x" }));
    expect(sandbox.s3Versions(LOCKED, "k")).toEqual([]);
    expect(sandbox.s3Versions(DEFAULTED, "k")).toEqual([]);
  });

  it("refuses half a lock, a past retain-until date and an unknown mode", async () => {
    const s3 = s3Client(sandbox);
    const put = (extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]>) =>
      s3.send(new PutObjectCommand({ Bucket: LOCKED, Key: "k", Body: "x", ...extra }));
    await expectAwsError(put({ ObjectLockMode: "COMPLIANCE" }), { code: "InvalidRequest", status: 400 });
    await expectAwsError(put({ ObjectLockRetainUntilDate: inDays(1) }), {
      code: "InvalidRequest",
      status: 400,
    });
    await expectAwsError(put({ ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inDays(-1) }), {
      code: "InvalidArgument",
      status: 400,
      message: "The retain until date must be in the future!",
    });
    await expectAwsError(
      put({ ObjectLockMode: "FOREVER" as "COMPLIANCE", ObjectLockRetainUntilDate: inDays(1) }),
      { code: "InvalidArgument", status: 400 },
    );
    expect(sandbox.s3Versions(LOCKED, "k")).toEqual([]);
  });

  it("decodes a streamed (aws-chunked) put and checks its trailing checksum", async () => {
    const s3 = s3Client(sandbox);
    await s3.send(
      new PutObjectCommand({
        Bucket: LOCKED,
        Key: "streamed",
        Body: Readable.from([Buffer.from("hello "), Buffer.from("world")]),
        ContentLength: 11,
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: inDays(1),
      }),
    );
    expect(sandbox.s3Versions(LOCKED, "streamed")).toMatchObject([
      { body: "hello world", lockMode: "COMPLIANCE" },
    ]);
    expect(sandbox.calls.at(-1)).toMatchObject({ service: "s3", action: "PutObject", status: 200 });
  });

  it("checks Content-MD5 and checksums against the body", async () => {
    const s3 = s3Client(sandbox, { checksums: "WHEN_REQUIRED" });
    const put = (extra: { ContentMD5?: string; ChecksumCRC32?: string }) =>
      s3.send(new PutObjectCommand({ Bucket: DEFAULTED, Key: "k", Body: "hello", ...extra }));
    await expectAwsError(put({ ContentMD5: Buffer.alloc(16).toString("base64") }), {
      code: "BadDigest",
      status: 400,
    });
    await expectAwsError(put({ ChecksumCRC32: "AAAAAA==" }), { code: "BadDigest", status: 400 });
    await put({ ContentMD5: "XUFAKrxLKna5cZ2REBfFkg==" });
    expect(sandbox.s3Versions(DEFAULTED, "k")).toMatchObject([
      { lockMode: "COMPLIANCE", retainUntil: inDays(7) },
    ]);
  });

  it("refuses a bad signature, an unknown bucket and the wrong region", async () => {
    const wrongKey = s3Client(sandbox, {
      credentials: { accessKeyId: "AKIDLEASEHOLDSANDBOX", secretAccessKey: "not-the-secret" },
    });
    await expectAwsError(wrongKey.send(new PutObjectCommand({ Bucket: PLAIN, Key: "k", Body: "x" })), {
      code: "SignatureDoesNotMatch",
      status: 403,
    });
    expect(sandbox.s3Versions(PLAIN, "k")).toEqual([]);
    await expectAwsError(
      s3Client(sandbox).send(new PutObjectCommand({ Bucket: "nope", Key: "k", Body: "x" })),
      {
        code: "NoSuchBucket",
        status: 404,
      },
    );
    await expectAwsError(
      s3Client(sandbox).send(new PutObjectCommand({ Bucket: "eu-bucket", Key: "k", Body: "x" })),
      { code: "AuthorizationHeaderMalformed", status: 400, message: /expecting 'eu-west-1'/ },
    );
    await s3Client(sandbox, { region: "eu-west-1" }).send(
      new PutObjectCommand({ Bucket: "eu-bucket", Key: "k", Body: "x" }),
    );
  });

  it("lists keys under a prefix in order, page by page", async () => {
    const s3 = s3Client(sandbox);
    const keys = ["p/3", "p/1", "q/1", "p/2", "p/10"];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: key }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: PLAIN, Prefix: "p/", MaxKeys: 3, ContinuationToken: token }),
      );
      pages += 1;
      seen.push(...(page.Contents ?? []).map((item) => item.Key ?? ""));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    expect({ seen, pages }).toEqual({ seen: ["p/1", "p/10", "p/2", "p/3"], pages: 2 });
    await expectAwsError(s3.send(new ListObjectsV2Command({ Bucket: PLAIN, ContinuationToken: "forged" })), {
      code: "InvalidArgument",
      status: 400,
    });
  });

  it("refuses a session's S3 call that its role's inline policy denies, naming the object", async () => {
    const assumed = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "writer", DurationSeconds: 900 }),
    );
    const credentials = {
      accessKeyId: assumed.Credentials?.AccessKeyId ?? "",
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? "",
      sessionToken: assumed.Credentials?.SessionToken ?? "",
    };
    const s3 = s3Client(sandbox, { credentials });
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: "before", Body: "x" }));
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "s3:PutObject", Resource: `arn:aws:s3:::${PLAIN}/*` }],
    };
    await iamClient(sandbox).send(
      new PutRolePolicyCommand({
        RoleName: "AuditWriter",
        PolicyName: "no-put",
        PolicyDocument: JSON.stringify(policy),
      }),
    );
    await expectAwsError(s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: "after", Body: "x" })), {
      code: "AccessDenied",
      status: 403,
      message: /is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::plain-bucket\/after/,
    });
    expect(sandbox.s3Versions(PLAIN, "after")).toEqual([]);
  });

  it("answers the bucket's Object Lock configuration, and its absence", async () => {
    const s3 = s3Client(sandbox);
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: DEFAULTED }));
    expect(config.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: "Enabled",
      Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 7 } },
    });
    await expectAwsError(s3.send(new GetObjectLockConfigurationCommand({ Bucket: PLAIN })), {
      code: "ObjectLockConfigurationNotFoundError",
      status: 404,
    });
  });
});
