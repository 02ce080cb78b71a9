import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AwsQueryError } from "./aws-query-error.js";

/**
 * AWS Signature Version 4 verification for header-signed requests (`Authorization: AWS4-HMAC-SHA256 …`),
 * written from the published algorithm rather than borrowed from the SDK, so the SDK's signer is
 * checked by an independent implementation. Presigned URLs (signature in the query string) are not
 * accepted: the SDK clients we test never send them. S3 signs differently (see SigningStyle).
 */

const ALGORITHM = "AWS4-HMAC-SHA256";
/** How far X-Amz-Date may be from the server clock, either way (AWS: 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The parts of an `Authorization` header. `date` is the credential scope's yyyymmdd. */
export type SigV4Authorization = {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
};

/** What the verifier needs of an HTTP request, as received (path and query still encoded). */
export type ReceivedRequest = {
  method: string;
  /** Path and query exactly as on the request line, e.g. `/?Action=…`. */
  url: string;
  /** Node's `rawHeaders`: alternating names and values, repeats preserved. */
  rawHeaders: readonly string[];
  body: Buffer;
};

/** Parses the `Authorization` header; refuses a missing or malformed one as AWS does. */
export function parseAuthorization(header: string | undefined): SigV4Authorization {
  if (header === undefined || header.trim() === "") {
    throw new AwsQueryError(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
  }
  const trimmed = header.trim();
  if (!trimmed.startsWith(`${ALGORITHM} `)) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      `Unsupported AWS 'algorithm': '${trimmed.split(" ")[0] ?? ""}'`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(ALGORITHM.length).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
  const [accessKeyId, date, region, service, terminator, ...extra] = credential.split("/");
  if (
    accessKeyId === undefined ||
    accessKeyId === "" ||
    date === undefined ||
    region === undefined ||
    service === undefined ||
    terminator !== "aws4_request" ||
    extra.length > 0
  ) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      `Credential should be scoped to a valid terminator: 'aws4_request', in '${credential}'.`,
    );
  }
  const headerNames = signedHeaders.split(";");
  if (!headerNames.includes("host")) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  return { accessKeyId, date, region, service, signedHeaders: headerNames, signature };
}

/** Values of one header in arrival order (names compared case-insensitively). */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const headerName = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (headerName !== undefined && value !== undefined && headerName.toLowerCase() === name) {
      values.push(value);
    }
  }
  return values;
}

/** RFC 3986 encoding as SigV4 defines it: everything but `A-Za-z0-9-_.~` is percent-encoded. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Canonical URI for every service but S3: the received (already encoded) path, with empty, `.` and
 * `..` segments resolved, encoded once more. This "double encoding" is what the SigV4 spec asks for
 * and what the SDK signs.
 */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith("/") ? "/" : "";
  return `/${segments.map(uriEncode).join("/")}${trailing}`;
}

/**
 * S3's canonical URI: the path encoded once and never normalised (`a//b` and `..` are parts of a key).
 * Each segment is decoded and re-encoded so a client's choice of escapes does not matter.
 */
function s3CanonicalUri(path: string): string {
  return path
    .split("/")
    .map((segment) => uriEncode(safeDecode(segment)))
    .join("/");
}

/**
 * How a service signs: every service but S3 normalises and double-encodes the path and hashes the
 * body; S3 encodes once and signs the value of `x-amz-content-sha256` (which may be UNSIGNED-PAYLOAD).
 */
export type SigningStyle = "default" | "s3";

/** Query parameters decoded, re-encoded per SigV4 and sorted by name, then value. */
function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs = query
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      return [uriEncode(safeDecode(name)), uriEncode(safeDecode(value))] as const;
    });
  pairs.sort(([an, av], [bn, bv]) => (an === bn ? compare(av, bv) : compare(an, bn)));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function compare(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** Header value as SigV4 canonicalises it: trimmed, inner runs of spaces collapsed, repeats comma-joined. */
function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((value) => value.trim().replace(/\s+/g, " ")).join(",");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function buildCanonicalRequest(
  request: ReceivedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
  style: SigningStyle = "default",
): string {
  const queryStart = request.url.indexOf("?");
  const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const query = queryStart === -1 ? "" : request.url.slice(queryStart + 1);
  const headers = signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(headerValues(request.rawHeaders, name))}\n`)
    .join("");
  return [
    request.method.toUpperCase(),
    style === "s3" ? s3CanonicalUri(path) : canonicalUri(path),
    canonicalQuery(query),
    headers,
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
}

/** The signature the request should carry, as raw bytes (hex-encode to compare with the header). */
export function computeSignature(
  request: ReceivedRequest,
  authorization: SigV4Authorization,
  amzDate: string,
  secretAccessKey: string,
  style: SigningStyle = "default",
): Buffer {
  const { date, region, service } = authorization;
  const payloadHash =
    style === "s3"
      ? (headerValues(request.rawHeaders, "x-amz-content-sha256")[0] ?? "")
      : sha256Hex(request.body);
  const canonical = buildCanonicalRequest(request, authorization.signedHeaders, payloadHash, style);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join("\n");
  return createHmac("sha256", deriveSigningKey(secretAccessKey, date, region, service))
    .update(stringToSign)
    .digest();
}

/** `20261123T121500Z` → the instant, or undefined when it is not in that exact form. */
export function parseAmzDate(amzDate: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (match === null) return undefined;
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = match.slice(1).map(Number);
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 20261332 over into a later month; a round trip refuses such dates.
  return formatAmzDate(at) === amzDate ? at : undefined;
}

export function formatAmzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
}

/**
 * The request's X-Amz-Date: present, well formed, matching the credential scope's date, and within
 * five minutes of `now`. Messages follow AWS ("Signature expired: … is now earlier than …").
 */
export function checkRequestTime(
  rawHeaders: readonly string[],
  authorization: SigV4Authorization,
  now: Date,
): string {
  const amzDate = headerValues(rawHeaders, "x-amz-date")[0];
  if (amzDate === undefined || !authorization.signedHeaders.includes("x-amz-date")) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      "Authorization header requires existence of a signed 'X-Amz-Date' header.",
    );
  }
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    throw new AwsQueryError(
      400,
      "IncompleteSignature",
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
  }
  if (amzDate.slice(0, 8) !== authorization.date) {
    throw new AwsQueryError(
      403,
      "SignatureDoesNotMatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${authorization.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  const skew = requestTime.getTime() - now.getTime();
  if (skew < -MAX_CLOCK_SKEW_MS) {
    const limit = formatAmzDate(new Date(now.getTime() - MAX_CLOCK_SKEW_MS));
    throw new AwsQueryError(
      403,
      "SignatureDoesNotMatch",
      `Signature expired: ${amzDate} is now earlier than ${limit} (${formatAmzDate(now)} - 5 min.)`,
    );
  }
  if (skew > MAX_CLOCK_SKEW_MS) {
    const limit = formatAmzDate(new Date(now.getTime() + MAX_CLOCK_SKEW_MS));
    throw new AwsQueryError(
      403,
      "SignatureDoesNotMatch",
      `Signature not yet current: ${amzDate} is still later than ${limit} (${formatAmzDate(now)} + 5 min.)`,
    );
  }
  return amzDate;
}

/** The `x-amz-content-sha256` value of an S3 request whose body is not signed. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** An `aws-chunked` S3 body whose chunks are unsigned and end with a checksum trailer. */
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

const CONTENT_HASH_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed.";

const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/**
 * Checks the body against `x-amz-content-sha256` (when sent) and the signature against the one
 * computed with `secretAccessKey`, in constant time. Throws `SignatureDoesNotMatch` on any mismatch.
 */
export function verifySignature(
  request: ReceivedRequest,
  authorization: SigV4Authorization,
  amzDate: string,
  secretAccessKey: string,
  style: SigningStyle = "default",
): void {
  const declaredHash = headerValues(request.rawHeaders, "x-amz-content-sha256")[0];
  // S3 lets a client leave the payload unsigned (the other services always sign it).
  const unsigned =
    style === "s3" && (declaredHash === UNSIGNED_PAYLOAD || declaredHash === STREAMING_UNSIGNED_TRAILER);
  if (declaredHash !== undefined && !unsigned && declaredHash !== sha256Hex(request.body)) {
    // S3 answers 400 XAmzContentSHA256Mismatch; STS and IAM a 403 SignatureDoesNotMatch.
    throw style === "s3"
      ? new AwsQueryError(400, "XAmzContentSHA256Mismatch", CONTENT_HASH_MISMATCH)
      : new AwsQueryError(403, "SignatureDoesNotMatch", CONTENT_HASH_MISMATCH);
  }
  const expected = computeSignature(request, authorization, amzDate, secretAccessKey, style);
  const provided = /^[0-9a-f]{64}$/.test(authorization.signature)
    ? Buffer.from(authorization.signature, "hex")
    : Buffer.alloc(0);
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new AwsQueryError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH);
  }
}
