import { AwsQueryError } from "./aws-query-error.js";
import { element } from "./aws-query-xml.js";
import type { SandboxS3LockMode } from "./aws-sandbox-types.js";
import { checkPutIntegrity } from "./s3-integrity.js";
import {
  type Bucket,
  currentKeys,
  deleteCurrent,
  deleteVersion,
  findVersion,
  isVersioned,
  type ObjectLock,
  type ObjectVersion,
  putVersion,
} from "./s3-store.js";
import {
  BYPASS_GOVERNANCE_HEADER,
  LEGAL_HOLD_HEADER,
  LOCK_MODE_HEADER,
  RETAIN_UNTIL_HEADER,
  S3_NAMESPACE,
  type S3Reply,
  s3Date,
  XML_DECLARATION,
} from "./s3-wire.js";
import { headerValues } from "./sigv4-verify.js";

/** The S3 operations the stand-in serves, each over one bucket (and key). Facts: contracts wave2 §4. */

export type S3Request = {
  bucket: Bucket;
  key: string;
  query: URLSearchParams;
  rawHeaders: readonly string[];
  body: Buffer;
  now: Date;
};

/** S3 keeps retention to at most 100 years. */
const MAX_RETENTION_MS = 100 * 365.25 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

const header = (request: S3Request, name: string) => headerValues(request.rawHeaders, name)[0];

const noSuchKey = () => new AwsQueryError(404, "NoSuchKey", "The specified key does not exist.");

/** Retention the put asks for, or the bucket's default; refusals as in contracts wave2 §4. */
function requestedLock(request: S3Request): ObjectLock | undefined {
  const mode = header(request, LOCK_MODE_HEADER);
  const until = header(request, RETAIN_UNTIL_HEADER);
  const legalHold = header(request, LEGAL_HOLD_HEADER);
  const lockConfig = request.bucket.objectLock;
  if ((mode !== undefined || until !== undefined || legalHold !== undefined) && lockConfig === undefined) {
    throw new AwsQueryError(400, "InvalidRequest", "Bucket is missing Object Lock Configuration");
  }
  if (legalHold !== undefined) {
    throw new AwsQueryError(501, "NotImplemented", "The stand-in does not model Object Lock legal holds.");
  }
  if (mode === undefined && until === undefined) {
    const fallback = lockConfig?.defaultRetention;
    if (fallback === undefined) return undefined;
    return { mode: fallback.mode, retainUntil: new Date(request.now.getTime() + fallback.days * DAY_MS) };
  }
  // AWS's wording for these three is unconfirmed (contracts wave2 §4); the codes follow the contract.
  if (mode === undefined || until === undefined) {
    throw new AwsQueryError(
      400,
      "InvalidRequest",
      "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
    );
  }
  if (mode !== "COMPLIANCE" && mode !== "GOVERNANCE") {
    throw new AwsQueryError(400, "InvalidArgument", "Unknown wormMode directive.");
  }
  const retainUntil = new Date(until);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(until) || Number.isNaN(retainUntil.getTime())) {
    throw new AwsQueryError(
      400,
      "InvalidArgument",
      "The retain until date must be an ISO 8601 date and time.",
    );
  }
  const ahead = retainUntil.getTime() - request.now.getTime();
  if (ahead <= 0)
    throw new AwsQueryError(400, "InvalidArgument", "The retain until date must be in the future!");
  if (ahead > MAX_RETENTION_MS) {
    throw new AwsQueryError(400, "InvalidArgument", "The retain until date may be at most 100 years ahead.");
  }
  return { mode: mode satisfies SandboxS3LockMode, retainUntil };
}

const versionHeaders = (bucket: Bucket, version: ObjectVersion): Record<string, string> =>
  isVersioned(bucket) ? { "x-amz-version-id": version.versionId } : {};

export function putObject(request: S3Request): S3Reply {
  if (Buffer.byteLength(request.key) > 1024) {
    throw new AwsQueryError(400, "KeyTooLongError", "Your key is too long");
  }
  const lock = requestedLock(request);
  checkPutIntegrity(request.rawHeaders, request.body, lock !== undefined);
  const current = findVersion(request.bucket, request.key, undefined);
  if (header(request, "if-none-match") === "*" && current !== undefined && !current.deleteMarker) {
    throw new AwsQueryError(
      412,
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
    );
  }
  const version = putVersion(request.bucket, request.key, {
    body: request.body,
    contentType: header(request, "content-type") ?? "binary/octet-stream",
    lock,
    now: request.now,
  });
  return {
    status: 200,
    headers: { ETag: version.etag, ...versionHeaders(request.bucket, version) },
    body: "",
  };
}

/** GetObject and HeadObject; HEAD answers the same headers without the body. */
export function getObject(request: S3Request, withBody: boolean): S3Reply {
  const version = findVersion(request.bucket, request.key, request.query.get("versionId") ?? undefined);
  if (version === undefined || version.deleteMarker) throw noSuchKey();
  const lock: Record<string, string> =
    version.lock === undefined
      ? {}
      : { [LOCK_MODE_HEADER]: version.lock.mode, [RETAIN_UNTIL_HEADER]: s3Date(version.lock.retainUntil) };
  return {
    status: 200,
    headers: {
      "Content-Type": version.contentType,
      "Content-Length": String(version.body.length),
      ETag: version.etag,
      "Last-Modified": version.lastModified.toUTCString(),
      ...versionHeaders(request.bucket, version),
      ...lock,
    },
    body: withBody ? version.body : "",
  };
}

/** DeleteObject: a version under retention is refused; otherwise S3 answers 204 (even for nothing). */
export function deleteObject(request: S3Request): S3Reply {
  const versionId = request.query.get("versionId") ?? undefined;
  if (versionId === undefined) {
    const marker = deleteCurrent(request.bucket, request.key, request.now);
    const headers: Record<string, string> =
      marker === undefined ? {} : { "x-amz-delete-marker": "true", "x-amz-version-id": marker.versionId };
    return { status: 204, headers, body: "" };
  }
  const version = findVersion(request.bucket, request.key, versionId);
  if (version === undefined) return { status: 204, headers: {}, body: "" };
  const locked = version.lock !== undefined && version.lock.retainUntil.getTime() > request.now.getTime();
  const bypass = header(request, BYPASS_GOVERNANCE_HEADER)?.toLowerCase() === "true";
  if (locked && (version.lock?.mode === "COMPLIANCE" || !bypass)) {
    throw new AwsQueryError(403, "AccessDenied", "Access Denied because object protected by object lock.");
  }
  deleteVersion(request.bucket, request.key, versionId);
  const headers: Record<string, string> = { "x-amz-version-id": versionId };
  if (version.deleteMarker) headers["x-amz-delete-marker"] = "true";
  return { status: 204, headers, body: "" };
}

const TOKEN_PREFIX = "lh1:";
const continuationToken = (lastKey: string) => Buffer.from(TOKEN_PREFIX + lastKey).toString("base64url");

function keyAfterToken(token: string): string {
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  if (token === "" || !decoded.startsWith(TOKEN_PREFIX)) {
    throw new AwsQueryError(400, "InvalidArgument", "The continuation token provided is incorrect");
  }
  return decoded.slice(TOKEN_PREFIX.length);
}

function maxKeysOf(query: URLSearchParams): number {
  const raw = query.get("max-keys");
  if (raw === null) return 1000;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new AwsQueryError(
      400,
      "InvalidArgument",
      "Provided max-keys not an integer or within integer range",
    );
  }
  // S3 never returns more than 1,000 keys a page, whatever was asked.
  return Math.min(value, 1000);
}

/** ListObjectsV2: keys in UTF-8 binary order, `max-keys` a page, an opaque continuation token. */
export function listObjectsV2(request: S3Request): S3Reply {
  const { query, bucket } = request;
  for (const unmodelled of ["delimiter", "encoding-type", "fetch-owner"]) {
    if (query.has(unmodelled)) {
      throw new AwsQueryError(
        501,
        "NotImplemented",
        `The stand-in does not implement ListObjectsV2 ${unmodelled}.`,
      );
    }
  }
  const prefix = query.get("prefix") ?? "";
  const startAfter = query.get("start-after") ?? "";
  const token = query.get("continuation-token");
  const after = token === null ? startAfter : keyAfterToken(token);
  const maxKeys = maxKeysOf(query);
  const matching = currentKeys(bucket).filter(
    (key) => key.startsWith(prefix) && Buffer.compare(Buffer.from(key), Buffer.from(after)) > 0,
  );
  const page = matching.slice(0, maxKeys);
  const truncated = matching.length > page.length;
  const contents = page
    .map((key) => {
      const version = findVersion(bucket, key, undefined);
      if (version === undefined) return "";
      return `<Contents>${element("Key", key)}${element("LastModified", s3Date(version.lastModified))}${element("ETag", version.etag)}${element("Size", version.body.length)}${element("StorageClass", "STANDARD")}</Contents>`;
    })
    .join("");
  const lastKey = page.at(-1);
  const body =
    `${XML_DECLARATION}<ListBucketResult xmlns="${S3_NAMESPACE}">${element("Name", bucket.name)}` +
    `${element("Prefix", prefix)}${element("KeyCount", page.length)}${element("MaxKeys", maxKeys)}` +
    `${element("IsTruncated", String(truncated))}${element("ContinuationToken", token ?? undefined)}` +
    `${element("NextContinuationToken", truncated && lastKey !== undefined ? continuationToken(lastKey) : undefined)}` +
    `${element("StartAfter", query.get("start-after") ?? undefined)}${contents}</ListBucketResult>`;
  return { status: 200, headers: { "Content-Type": "application/xml" }, body };
}

/** GetObjectLockConfiguration (`GET /<bucket>?object-lock`). */
export function getObjectLockConfiguration(request: S3Request): S3Reply {
  const config = request.bucket.objectLock;
  if (config === undefined) {
    throw new AwsQueryError(
      404,
      "ObjectLockConfigurationNotFoundError",
      "Object Lock configuration does not exist for this bucket",
    );
  }
  const retention = config.defaultRetention;
  const rule =
    retention === undefined
      ? ""
      : `<Rule><DefaultRetention>${element("Mode", retention.mode)}${element("Days", retention.days)}</DefaultRetention></Rule>`;
  const body = `${XML_DECLARATION}<ObjectLockConfiguration xmlns="${S3_NAMESPACE}"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`;
  return { status: 200, headers: { "Content-Type": "application/xml" }, body };
}
