import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether an Authorization header carries the metrics bearer token; compared in constant time (over
 * digests, so a length difference shows nothing either). No token configured: every scrape passes.
 */
export function metricsAuthorized(token: string | undefined, header: string | undefined): boolean {
  if (token === undefined) return true;
  const match = typeof header === "string" ? /^Bearer (\S+)$/i.exec(header) : null;
  const given = match?.[1] ?? "";
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
