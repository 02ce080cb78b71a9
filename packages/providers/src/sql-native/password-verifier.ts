import { createHash, createHmac, pbkdf2, randomBytes } from "node:crypto";
import { promisify } from "node:util";

/*
 * What a database stores for a password, computed by Leasehold so the target database never sees the
 * password itself: no hashing of it inside the lock that serializes Leasehold's GRANTs, and no password
 * in the server's statement log (a failed statement is logged by default). Formats and vectors:
 * contracts/wave2.md §11.
 */

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's SCRAM_SHA_256_DEFAULT_ITERATIONS (and the default of PostgreSQL 16's scram_iterations). */
export const SCRAM_ITERATIONS = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
export const SCRAM_SALT_BYTES = 16;
/** Bounds on an iteration count this module computes or accepts: PostgreSQL's default up to a sane ceiling. */
const MIN_ITERATIONS = 4096;
export const MAX_SCRAM_ITERATIONS = 1_000_000;

const B64 = "[A-Za-z0-9+/]+={0,2}";
const SCRAM_VERIFIER = new RegExp(`^SCRAM-SHA-256\\$([1-9][0-9]{0,6}):(${B64})\\$(${B64}):(${B64})$`);
const MYSQL_NATIVE_HASH = /^\*[0-9A-F]{40}$/;

/**
 * SASLprep (RFC 4013) leaves printable ASCII as it is: no character of it is mapped, normalised or
 * prohibited. Leasehold's passwords are [A-Za-z0-9] (generateSqlPassword), so the verifier is computed
 * over the password's bytes as they are; anything outside printable ASCII is refused rather than
 * normalised, since this module does not implement SASLprep.
 */
function assertPrintableAscii(password: string): void {
  if (password.length === 0 || password.length > 1024 || !/^[\x20-\x7e]+$/.test(password)) {
    throw new Error("a password to hash must be 1–1024 printable ASCII characters");
  }
}

/**
 * PostgreSQL's SCRAM-SHA-256 secret for `password` (RFC 5802 §3, RFC 7677; scram_build_secret):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. PBKDF2 runs on libuv's thread
 * pool (crypto.pbkdf2), so the event loop only does the three short HMAC/SHA-256 steps after it.
 * `salt` is for test vectors; by default 16 random bytes.
 */
export async function scramSha256Verifier(
  password: string,
  {
    salt = randomBytes(SCRAM_SALT_BYTES),
    iterations = SCRAM_ITERATIONS,
  }: { salt?: Buffer; iterations?: number } = {},
): Promise<string> {
  assertPrintableAscii(password);
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_SCRAM_ITERATIONS) {
    throw new Error(`SCRAM iterations must be ${MIN_ITERATIONS}–${MAX_SCRAM_ITERATIONS}`);
  }
  if (salt.length < SCRAM_SALT_BYTES) throw new Error(`a SCRAM salt is at least ${SCRAM_SALT_BYTES} bytes`);
  const salted = await pbkdf2Async(Buffer.from(password, "ascii"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  const verifier = `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
  // PostgreSQL stores a string it cannot parse as a verifier as a plaintext password: never send one.
  if (!isScramSha256Verifier(verifier)) throw new Error("computed an unparsable SCRAM verifier");
  return verifier;
}

/**
 * Whether PostgreSQL's parse_scram_secret accepts `text` as a verifier (so CREATE/ALTER ROLE stores it
 * as it is): the prefix, a whole iteration count, a base64 salt, and keys of exactly 32 bytes. Stricter
 * than the server on the salt (at least 16 bytes) and the count (Leasehold's bounds).
 */
export function isScramSha256Verifier(text: string): boolean {
  const match = SCRAM_VERIFIER.exec(text);
  if (!match) return false;
  const [, iterations, salt, storedKey, serverKey] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const count = Number(iterations);
  return (
    count >= MIN_ITERATIONS &&
    count <= MAX_SCRAM_ITERATIONS &&
    isCanonicalBase64(salt, SCRAM_SALT_BYTES, 1024) &&
    isCanonicalBase64(storedKey, 32, 32) &&
    isCanonicalBase64(serverKey, 32, 32)
  );
}

/** Base64 that decodes to minBytes…maxBytes and encodes back to the same text (no stray padding or bits). */
function isCanonicalBase64(text: string, minBytes: number, maxBytes: number): boolean {
  const bytes = Buffer.from(text, "base64");
  return bytes.length >= minBytes && bytes.length <= maxBytes && bytes.toString("base64") === text;
}

/**
 * mysql_native_password's stored hash: `*` + uppercase hex of SHA1(SHA1(password)). Two SHA-1s of a
 * short string take about a microsecond, so this runs on the event loop.
 */
export function mysqlNativePasswordHash(password: string): string {
  assertPrintableAscii(password);
  const inner = createHash("sha1").update(password, "ascii").digest();
  const hash = `*${createHash("sha1").update(inner).digest("hex").toUpperCase()}`;
  if (!MYSQL_NATIVE_HASH.test(hash)) throw new Error("computed a malformed mysql_native_password hash");
  return hash;
}

export const isMysqlNativePasswordHash = (text: string): boolean => MYSQL_NATIVE_HASH.test(text);
