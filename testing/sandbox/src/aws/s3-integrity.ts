import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { AwsQueryError } from "./aws-query-error.js";
import { headerValues } from "./sigv4-verify.js";

/**
 * The integrity headers of a PutObject (contracts wave2 §4): `Content-MD5`, and the flexible checksums
 * the SDK sends by default (`x-amz-sdk-checksum-algorithm` + `x-amz-checksum-<alg>`). Every value sent
 * is checked against the body; a put with Object Lock retention must carry at least one.
 */

/** The algorithms the stand-in computes; S3's others (CRC32C, CRC64NVME, …) are refused, never trusted. */
const DIGESTS: Readonly<Record<string, (body: Buffer) => Buffer>> = {
  crc32: (body) => {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(crc32(body));
    return value;
  },
  sha1: (body) => createHash("sha1").update(body).digest(),
  sha256: (body) => createHash("sha256").update(body).digest(),
};

/** Every algorithm S3's model names (checksum headers for these are recognised, not necessarily computed). */
const KNOWN_ALGORITHMS = new Set([
  "crc32",
  "crc32c",
  "crc64nvme",
  "sha1",
  "sha256",
  "md5",
  "sha512",
  "xxhash64",
  "xxhash3",
  "xxhash128",
]);

const CHECKSUM_HEADER = /^x-amz-checksum-([a-z0-9]+)$/;

/** The `x-amz-checksum-<alg>` headers sent (x-amz-checksum-mode, a GetObject flag, is not one). */
function checksumHeaders(rawHeaders: readonly string[]): { algorithm: string; value: string }[] {
  const found: { algorithm: string; value: string }[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const match = CHECKSUM_HEADER.exec((rawHeaders[i] ?? "").toLowerCase());
    const algorithm = match?.[1];
    if (algorithm !== undefined && algorithm !== "mode" && algorithm !== "type") {
      found.push({ algorithm, value: rawHeaders[i + 1] ?? "" });
    }
  }
  return found;
}

function checkContentMd5(value: string, body: Buffer): void {
  const digest = Buffer.from(value, "base64");
  if (digest.length !== 16 || digest.toString("base64") !== value.trim()) {
    throw new AwsQueryError(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
  }
  if (!digest.equals(createHash("md5").update(body).digest())) {
    throw new AwsQueryError(
      400,
      "BadDigest",
      "The Content-MD5 you specified did not match what we received.",
    );
  }
}

function checkChecksum(algorithm: string, value: string, body: Buffer): void {
  if (!KNOWN_ALGORITHMS.has(algorithm)) {
    throw new AwsQueryError(400, "InvalidRequest", `Unknown checksum header x-amz-checksum-${algorithm}.`);
  }
  const digest = DIGESTS[algorithm];
  if (digest === undefined) {
    throw new AwsQueryError(
      501,
      "NotImplemented",
      `The stand-in does not compute ${algorithm.toUpperCase()} checksums; send CRC32, SHA1, SHA256 or Content-MD5.`,
    );
  }
  const expected = digest(body);
  if (
    Buffer.from(value, "base64").toString("base64") !== value.trim() ||
    !Buffer.from(value, "base64").equals(expected)
  ) {
    throw new AwsQueryError(
      400,
      "BadDigest",
      `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
    );
  }
}

/**
 * Checks a PutObject's integrity headers against its body. `retention` says the object is being put
 * with Object Lock retention, which makes one of them mandatory.
 */
export function checkPutIntegrity(rawHeaders: readonly string[], body: Buffer, retention: boolean): void {
  const md5 = headerValues(rawHeaders, "content-md5")[0];
  const checksums = checksumHeaders(rawHeaders);
  const declared = headerValues(rawHeaders, "x-amz-sdk-checksum-algorithm")[0]?.toLowerCase();
  if (checksums.length > 1) {
    throw new AwsQueryError(
      400,
      "InvalidRequest",
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  }
  const checksum = checksums[0];
  if (declared !== undefined && checksum?.algorithm !== declared) {
    throw new AwsQueryError(
      400,
      "InvalidRequest",
      "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
    );
  }
  if (md5 !== undefined) checkContentMd5(md5, body);
  if (checksum !== undefined) checkChecksum(checksum.algorithm, checksum.value, body);
  if (retention && md5 === undefined && checksum === undefined) {
    throw new AwsQueryError(
      400,
      "InvalidRequest",
      "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    );
  }
}
