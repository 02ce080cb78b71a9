import { createHash } from "node:crypto";
import type { Principal } from "@leasehold/domain";

/**
 * Principals of bearer tokens that passed full verification, so that a client calling again with the
 * same token (every workload does, until its token rotates) is not verified again: signature checking
 * through WebCrypto was the largest cost of an authenticated call (about 150–400 µs of CPU).
 *
 * Why this accepts nothing that full verification would refuse:
 * - an entry is found only by the SHA-256 of the exact token bytes that were verified;
 * - it is used only from the moment of that verification until the token's `exp` (without the clock
 *   skew jose allows) and at most `maxAgeMs` after it; at any instant in that window the same token
 *   was already valid (`nbf`, `iat`) and is not yet expired. Outside it (including a clock that went
 *   back) the token is verified in full again;
 * - a signing key removed from the issuer's JWKS stays usable in jose's own key cache for up to
 *   10 minutes, so `maxAgeMs` well below that keeps removals as effective as before.
 * Refusals are never cached. Bounded: the oldest entry makes room for a new one.
 */
export type VerifiedTokenCache = {
  get(token: string, nowMs: number): Principal | undefined;
  /** `expiresAtMs`: the token's `exp` in milliseconds. */
  set(token: string, principal: Principal, expiresAtMs: number, nowMs: number): void;
};

export function createVerifiedTokenCache(options: {
  maxEntries: number;
  maxAgeMs: number;
}): VerifiedTokenCache {
  const entries = new Map<string, { principal: Principal; fromMs: number; untilMs: number }>();
  // Keys are digests, so the cache holds no bearer token itself.
  const keyOf = (token: string) => createHash("sha256").update(token).digest("base64url");

  return {
    get(token, nowMs) {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (nowMs >= entry.fromMs && nowMs < entry.untilMs) return entry.principal;
      entries.delete(key);
      return undefined;
    },
    set(token, principal, expiresAtMs, nowMs) {
      const untilMs = Math.min(expiresAtMs, nowMs + options.maxAgeMs);
      if (!(untilMs > nowMs) || options.maxEntries < 1) return;
      const key = keyOf(token);
      entries.delete(key);
      while (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(key, { principal, fromMs: nowMs, untilMs });
    },
  };
}
