import type { FastifyRequest } from "fastify";
import { matchesHash } from "./session-secrets.js";

/** The header the console sends its session's CSRF token in (from GET /auth/session). */
export const CSRF_HEADER = "x-leasehold-csrf";

/**
 * Why a cookie-authenticated POST must be refused, or nothing. SameSite=Strict already keeps other
 * sites' requests from carrying the cookie; the token (which only a page of this origin can read)
 * and the Origin check hold when a browser or a sibling subdomain does not honour that.
 */
export function csrfProblem(
  request: FastifyRequest,
  session: { readonly csrfHash: Buffer },
  publicOrigin: string,
): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== publicOrigin) {
    return "this request comes from another origin";
  }
  const token = request.headers[CSRF_HEADER];
  if (typeof token !== "string" || !matchesHash(token, session.csrfHash)) {
    return `send the session's CSRF token in ${CSRF_HEADER} (from GET /auth/session)`;
  }
  return undefined;
}
