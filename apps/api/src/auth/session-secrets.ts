import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The session cookie's names: `__Host-` pins it to this origin, path / and Secure (RFC 6265bis). */
export const SECURE_SESSION_COOKIE = "__Host-leasehold-session";
/** Local mode over plain http: a browser refuses `__Host-` and Secure cookies there. */
export const INSECURE_SESSION_COOKIE = "leasehold-session";

/** 32 random bytes, base64url without padding. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** What a cookie value stands for: the hash the database keys the session by, and its CSRF token. */
export type SessionSecrets = {
  readonly idHash: Buffer;
  readonly csrfToken: string;
  readonly csrfHash: Buffer;
};

export const sha256 = (value: string | Buffer): Buffer => createHash("sha256").update(value).digest();

/**
 * The CSRF token is derived from the cookie's id, so the server can hand it to the console again
 * (GET /auth/session) while the database keeps only hashes of both: a copy of the table yields
 * neither a cookie nor a token.
 */
function secretsOf(cookieValue: string): SessionSecrets {
  const id = Buffer.from(cookieValue, "base64url");
  const csrfToken = createHmac("sha256", id).update("leasehold console csrf v1").digest("base64url");
  return { idHash: sha256(id), csrfToken, csrfHash: sha256(csrfToken) };
}

/** A new session's cookie value and what it stands for. */
export function newSessionSecrets(): SessionSecrets & { readonly cookieValue: string } {
  const cookieValue = randomBytes(32).toString("base64url");
  return { cookieValue, ...secretsOf(cookieValue) };
}

/** What a presented cookie stands for, or nothing when it is not shaped like one of ours. */
export function sessionSecretsFromCookie(value: string | undefined): SessionSecrets | undefined {
  if (value === undefined || !COOKIE_VALUE.test(value)) return undefined;
  // The last character carries two unused bits: only the one spelling we issue is accepted.
  if (Buffer.from(value, "base64url").toString("base64url") !== value) return undefined;
  return secretsOf(value);
}

/** Whether `presented` hashes to `expectedHash`: equal-length digests compared in constant time. */
export function matchesHash(presented: string | undefined, expectedHash: Buffer): boolean {
  if (presented === undefined || presented.length === 0 || presented.length > 256) return false;
  const digest = sha256(presented);
  return digest.length === expectedHash.length && timingSafeEqual(digest, expectedHash);
}

/** Two secrets compared in constant time (through their digests, which have equal lengths). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
