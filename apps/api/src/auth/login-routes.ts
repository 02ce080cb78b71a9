import type { StepUp } from "@leasehold/domain";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import * as client from "openid-client";
import { csrfProblem } from "./csrf.js";
import { createLoginClient, describeCallbackError, type LoginSetup } from "./login-client.js";
import { signInErrorPage } from "./login-pages.js";
import { createPendingLogins, PENDING_LOGIN_TTL_MS, type PendingLogin } from "./pending-logins.js";
import { safeReturnTo } from "./return-to.js";
import {
  type CookieSessions,
  publicOrigin,
  sessionCookieName,
  sessionCookieOptions,
  sessionOf,
} from "./session-auth.js";
import { newSessionSecrets, sameSecret } from "./session-secrets.js";
import { principalFromClaims } from "./token-verifier.js";

/** Binds a sign-in in flight to the browser that began it. Lax: it must come back from the IdP's redirect. */
const LOGIN_COOKIE = "leasehold-login";

export type LoginRoutesOptions = {
  readonly login: LoginSetup;
  readonly cookies: CookieSessions;
  /** A target's step-up rule, for `/auth/login?stepUp=<targetId>`; nothing for an unknown target. */
  readonly stepUpOf: (targetId: string) => StepUp | undefined;
  readonly clock: () => Date;
};

const firstString = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

const errorPage = (reply: FastifyReply, status: number, message: string) =>
  reply
    .code(status)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(signInErrorPage(message));

/** GET /auth/login and GET /auth/callback: the console's OIDC sign-in (authorization code + PKCE). */
export function registerLoginRoutes(app: FastifyInstance, options: LoginRoutesOptions): void {
  const configuration = createLoginClient(options.login);
  const pending = createPendingLogins(options.cookies.sessions, options.clock);
  // The redirect URI is `<publicUrl>/auth/callback`; publicUrl is known once the API listens.
  const redirectUri = () => `${options.cookies.publicUrl().replace(/\/$/, "")}/auth/callback`;
  const loginCookie = {
    path: "/auth",
    httpOnly: true,
    sameSite: "lax",
    secure: options.cookies.secure,
  } as const;

  app.get("/auth/login", async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const returnTo = safeReturnTo(query.returnTo);
    if (returnTo === undefined) return errorPage(reply, 400, "returnTo must be a path on this site");
    const stepUpTarget = firstString(query.stepUp);
    const stepUp = stepUpTarget === undefined ? undefined : options.stepUpOf(stepUpTarget.slice(0, 200));
    if (stepUpTarget !== undefined && !stepUp) {
      return errorPage(reply, 400, "no target with this id asks for a fresh sign-in");
    }
    let config: client.Configuration;
    try {
      config = await configuration();
    } catch (error) {
      request.log.warn({ reason: (error as Error).message }, "identity provider discovery failed");
      return errorPage(reply, 502, "the identity provider could not be reached; try again in a moment");
    }
    const codeVerifier = client.randomPKCECodeVerifier();
    const login: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier,
      returnTo,
      maxAge: stepUp?.maxAge ?? null,
      acr: stepUp?.acr ?? null,
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(),
      scope: options.login.provider.login.scopes.join(" "),
      state: login.state,
      nonce: login.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      ...(stepUp ? { max_age: String(stepUp.maxAge) } : {}),
      ...(stepUp?.acr
        ? {
            acr_values: stepUp.acr,
            claims: JSON.stringify({ id_token: { acr: { essential: true, values: [stepUp.acr] } } }),
          }
        : {}),
    });
    const handle = await pending.add(login);
    return reply
      .setCookie(LOGIN_COOKIE, handle, { ...loginCookie, maxAge: PENDING_LOGIN_TTL_MS / 1000 })
      .header("cache-control", "no-store")
      .redirect(url.href, 302);
  });

  app.get("/auth/callback", async (request, reply) => {
    const login = await pending.take(request.cookies[LOGIN_COOKIE]);
    reply.clearCookie(LOGIN_COOKIE, loginCookie);
    if (!login) {
      return errorPage(
        reply,
        400,
        "this sign-in was not started in this browser or took too long; start again",
      );
    }
    const state = firstString((request.query as Record<string, unknown>).state);
    if (state === undefined || !sameSecret(state, login.state)) {
      return errorPage(reply, 400, "the sign-in's state does not match the one this browser started with");
    }
    return finishSignIn(request, reply, login, configuration, options, redirectUri);
  });
}

/** The code exchanged and the ID token checked; then the session, its cookie and the way back. */
async function finishSignIn(
  request: FastifyRequest,
  reply: FastifyReply,
  login: PendingLogin,
  configuration: () => Promise<client.Configuration>,
  options: LoginRoutesOptions,
  redirectUri: () => string,
) {
  let claims: client.IDToken | undefined;
  try {
    const tokens = await client.authorizationCodeGrant(
      await configuration(),
      new URL(request.url, redirectUri()),
      {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
        ...(login.maxAge !== null ? { maxAge: login.maxAge } : {}),
      },
      { redirect_uri: redirectUri() },
    );
    claims = tokens.claims();
  } catch (error) {
    const message = describeCallbackError(error);
    request.log.info({ reason: message }, "console sign-in refused");
    return errorPage(reply, 400, message);
  }
  if (!claims) return errorPage(reply, 400, "the identity provider sent no ID token");
  let principal: ReturnType<typeof principalFromClaims>;
  try {
    principal = principalFromClaims(options.login.provider, claims, options.clock());
  } catch (error) {
    return errorPage(reply, 403, (error as Error).message);
  }
  const acr = typeof claims.acr === "string" ? claims.acr.slice(0, 255) : null;
  if (login.acr !== null && acr !== login.acr) {
    return errorPage(reply, 403, `this sign-in is not of the class the target asks for (${login.acr})`);
  }
  const previous = await sessionOf(request, options.cookies);
  if (previous) await options.cookies.sessions.end(previous.secrets.idHash, "replaced by a new sign-in");
  const secrets = newSessionSecrets();
  await options.cookies.sessions.start({
    idHash: secrets.idHash,
    csrfHash: secrets.csrfHash,
    principal,
    authTime: typeof claims.auth_time === "number" ? new Date(claims.auth_time * 1000) : null,
    acr,
    ttlSeconds: options.login.provider.login.sessionTtl,
  });
  request.log.info({ principal: principal.id }, "console session started");
  return reply
    .setCookie(sessionCookieName(options.cookies), secrets.cookieValue, {
      ...sessionCookieOptions(options.cookies),
      maxAge: options.login.provider.login.sessionTtl,
    })
    .header("cache-control", "no-store")
    .redirect(login.returnTo, 303);
}

/** GET /auth/session, POST /auth/logout and GET /auth/cli: served whether or not sign-in is configured. */
export function registerSessionRoutes(
  app: FastifyInstance,
  cookies: CookieSessions,
  login: LoginSetup | undefined,
): void {
  app.get("/auth/session", async (request, reply) => {
    reply.header("cache-control", "no-store");
    if (!login) return reply.code(401).send({ error: "console sign-in is not configured" });
    const found = await sessionOf(request, cookies);
    if (!found) return reply.code(401).send({ error: "not signed in", loginUrl: "/auth/login" });
    const { session, secrets } = found;
    const { id, kind, provider, groups } = session.principal;
    return {
      principal: { id, kind, provider, groups },
      csrfToken: secrets.csrfToken,
      authTime: session.authTime?.toISOString() ?? null,
      acr: session.acr,
      expiresAt: session.expiresAt.toISOString(),
    };
  });

  app.post("/auth/logout", async (request, reply) => {
    reply.header("cache-control", "no-store");
    const found = await sessionOf(request, cookies);
    if (!found) return reply.code(401).send({ error: "not signed in" });
    const problem = csrfProblem(request, found.session, publicOrigin(cookies));
    if (problem) return reply.code(403).send({ error: problem });
    await cookies.sessions.end(found.secrets.idHash, "signed out");
    return reply.clearCookie(sessionCookieName(cookies), sessionCookieOptions(cookies)).code(204).send();
  });

  app.get("/auth/cli", async (_request, reply) => {
    if (!login) return reply.code(404).send({ error: "no identity provider signs people in" });
    const settings = login.provider.login;
    return {
      issuer: login.provider.issuer,
      clientId: settings.cliClientId ?? settings.clientId,
      scope: settings.scopes.join(" "),
    };
  });
}
