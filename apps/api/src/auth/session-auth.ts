import type { Broker, WebSessionView } from "@leasehold/broker";
import type { WebSession } from "@leasehold/db";
import type { Principal } from "@leasehold/domain";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { csrfProblem } from "./csrf.js";
import {
  INSECURE_SESSION_COOKIE,
  SECURE_SESSION_COOKIE,
  type SessionSecrets,
  sessionSecretsFromCookie,
} from "./session-secrets.js";

/** The session use cases the edge calls (the broker's `sessions`). */
export type SessionPort = Pick<Broker["sessions"], "start" | "find" | "end" | "holdLogin" | "takeLogin">;

/** How this API keeps console sessions: the cookie's name and flags, its public origin, the store. */
export type CookieSessions = {
  readonly sessions: SessionPort;
  /** The `__Host-` cookie with Secure, unless local mode over http asked for insecure cookies. */
  readonly secure: boolean;
  /**
   * The API's public base URL (known once it listens, when not configured): its origin is the only
   * Origin a cookie-authenticated POST may come from.
   */
  readonly publicUrl: () => string;
};

/** `scheme://host[:port]` of the public URL. */
export const publicOrigin = (c: Pick<CookieSessions, "publicUrl">) => new URL(c.publicUrl()).origin;

export const sessionCookieName = (c: Pick<CookieSessions, "secure">) =>
  c.secure ? SECURE_SESSION_COOKIE : INSECURE_SESSION_COOKIE;

/** The attributes the session cookie is set and cleared with. */
export const sessionCookieOptions = (c: Pick<CookieSessions, "secure">) =>
  ({ path: "/", httpOnly: true, sameSite: "strict", secure: c.secure }) as const;

/** A request's open session and the secrets its cookie stands for; nothing without a valid cookie. */
export async function sessionOf(
  request: FastifyRequest,
  c: CookieSessions,
): Promise<{ readonly session: WebSession; readonly secrets: SessionSecrets } | undefined> {
  const secrets = sessionSecretsFromCookie(request.cookies[sessionCookieName(c)]);
  if (!secrets) return undefined;
  const session = await c.sessions.find(secrets.idHash);
  return session && { session, secrets };
}

/** The signed-in person, with how: a console session, and when the IdP last authenticated them. */
export function consolePrincipal(session: WebSession | WebSessionView): Principal {
  return {
    ...session.principal,
    authentication: {
      method: "console",
      ...(session.authTime ? { authTime: session.authTime } : {}),
      ...(session.acr ? { acr: session.acr } : {}),
    },
  };
}

/** What a tRPC call's cookie said: a principal, why it was refused, or no cookie at all. */
type CookieAuth = { readonly principal: Principal } | { readonly error: string };
const cookieAuth = new WeakMap<FastifyRequest, CookieAuth>();

/** The cookie's verdict for this tRPC call, when it had no bearer token and had a session cookie. */
export const cookieAuthOf = (request: FastifyRequest): CookieAuth | undefined => cookieAuth.get(request);

/**
 * Before tRPC runs: a call without a bearer token is authenticated by its session cookie, and a POST
 * so authenticated (a mutation, or a batch that may hold one) must carry the CSRF token and come
 * from the public origin, or it is refused with 403 before any procedure runs.
 */
export function registerTrpcSessionGuard(app: FastifyInstance, c: CookieSessions): void {
  app.addHook("preHandler", async (request, reply) => {
    if (!request.url.startsWith("/trpc/")) return;
    if (request.headers.authorization !== undefined) return;
    if (request.cookies[sessionCookieName(c)] === undefined) return;
    const found = await sessionOf(request, c);
    if (!found) {
      cookieAuth.set(request, { error: "the console session has ended or is not valid; sign in again" });
      return;
    }
    if (request.method === "POST") {
      const problem = csrfProblem(request, found.session, publicOrigin(c));
      if (problem) return reply.code(403).header("cache-control", "no-store").send({ error: problem });
    }
    cookieAuth.set(request, { principal: consolePrincipal(found.session) });
  });
}
