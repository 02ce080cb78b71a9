import { createHash, randomBytes } from "node:crypto";
import type { SandboxBucketConfig, SandboxS3LockMode, SandboxS3ObjectVersion } from "./aws-sandbox-types.js";

/**
 * The S3 stand-in's buckets and object versions (in memory). A bucket with Object Lock is versioned,
 * as S3 makes it; a bucket without is not, so a put replaces the object and its version id is "null".
 */

export type ObjectLock = { mode: SandboxS3LockMode; retainUntil: Date };

export type ObjectVersion = {
  versionId: string;
  deleteMarker: boolean;
  body: Buffer;
  /** Quoted hex MD5 of the body, as S3 sends it for a single-part upload. */
  etag: string;
  contentType: string;
  lastModified: Date;
  lock: ObjectLock | undefined;
};

export type Bucket = {
  name: string;
  region: string;
  /** Undefined when the bucket has no Object Lock configuration. */
  objectLock: { defaultRetention: { mode: SandboxS3LockMode; days: number } | undefined } | undefined;
  /** Key → versions, oldest first. */
  keys: Map<string, ObjectVersion[]>;
};

export type S3Store = Map<string, Bucket>;

/** S3's bucket naming rules (general purpose buckets), checked when a test configures one. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Builds the configured buckets; throws (at start-up) for a name or retention S3 would refuse. */
export function createBuckets(configs: readonly SandboxBucketConfig[]): S3Store {
  const store: S3Store = new Map();
  for (const config of configs) {
    if (!BUCKET_NAME.test(config.name) || config.name.includes("..")) {
      throw new Error(`Sandbox bucket "${config.name}" is not a valid S3 bucket name`);
    }
    if (store.has(config.name)) throw new Error(`Sandbox bucket "${config.name}" is configured twice`);
    const retention = config.objectLock?.defaultRetention;
    // S3 allows Days up to 100 years' worth; fractional or non-positive days are refused.
    if (
      retention !== undefined &&
      (!Number.isInteger(retention.days) || retention.days < 1 || retention.days > 36500)
    ) {
      throw new Error(
        `Sandbox bucket "${config.name}": default retention days must be an integer in 1–36500`,
      );
    }
    store.set(config.name, {
      name: config.name,
      region: config.region ?? "us-east-1",
      objectLock: config.objectLock === undefined ? undefined : { defaultRetention: retention },
      keys: new Map(),
    });
  }
  return store;
}

export const isVersioned = (bucket: Bucket): boolean => bucket.objectLock !== undefined;

/** The version GET and HEAD see: the one named, or the newest (which may be a delete marker). */
export function findVersion(
  bucket: Bucket,
  key: string,
  versionId: string | undefined,
): ObjectVersion | undefined {
  const versions = bucket.keys.get(key) ?? [];
  return versionId === undefined ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
}

const newVersionId = (bucket: Bucket): string =>
  isVersioned(bucket) ? randomBytes(24).toString("base64url") : "null";

/** Stores a new version of `key`; in an unversioned bucket it replaces the object. */
export function putVersion(
  bucket: Bucket,
  key: string,
  input: { body: Buffer; contentType: string; lock: ObjectLock | undefined; now: Date },
): ObjectVersion {
  const version: ObjectVersion = {
    versionId: newVersionId(bucket),
    deleteMarker: false,
    body: input.body,
    etag: `"${createHash("md5").update(input.body).digest("hex")}"`,
    contentType: input.contentType,
    lastModified: input.now,
    lock: input.lock,
  };
  const versions = isVersioned(bucket) ? (bucket.keys.get(key) ?? []) : [];
  bucket.keys.set(key, [...versions, version]);
  return version;
}

/** A DELETE without a version id: a delete marker in a versioned bucket, removal otherwise. */
export function deleteCurrent(bucket: Bucket, key: string, now: Date): ObjectVersion | undefined {
  if (!isVersioned(bucket)) {
    bucket.keys.delete(key);
    return undefined;
  }
  const marker: ObjectVersion = {
    versionId: newVersionId(bucket),
    deleteMarker: true,
    body: Buffer.alloc(0),
    etag: "",
    contentType: "",
    lastModified: now,
    lock: undefined,
  };
  bucket.keys.set(key, [...(bucket.keys.get(key) ?? []), marker]);
  return marker;
}

/** Removes one version (the caller has checked its lock). */
export function deleteVersion(bucket: Bucket, key: string, versionId: string): void {
  const remaining = (bucket.keys.get(key) ?? []).filter((v) => v.versionId !== versionId);
  if (remaining.length === 0) bucket.keys.delete(key);
  else bucket.keys.set(key, remaining);
}

/** Keys whose newest version is an object (not a delete marker), in UTF-8 binary order as S3 lists them. */
export function currentKeys(bucket: Bucket): string[] {
  return [...bucket.keys.entries()]
    .filter(([, versions]) => versions.at(-1)?.deleteMarker === false)
    .map(([key]) => key)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A test's copy of one version; the body as UTF-8 text. */
export const versionRecord = (key: string, version: ObjectVersion): SandboxS3ObjectVersion => ({
  key,
  versionId: version.versionId,
  deleteMarker: version.deleteMarker,
  body: version.body.toString("utf8"),
  contentType: version.contentType,
  lastModified: version.lastModified,
  ...(version.lock === undefined
    ? {}
    : { lockMode: version.lock.mode, retainUntil: version.lock.retainUntil }),
});
