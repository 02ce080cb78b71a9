import type { IncomingMessage, ServerResponse } from "node:http";
import { clientAllows } from "./oidc-client-auth.js";
import { renderErrorPage, renderLoginPage } from "./oidc-html.js";
import { type Params, parseParams, readForm, redirect, sendHtml } from "./oidc-http.js";
import type { PendingAuthorization, ProviderContext } from "./oidc-provider-types.js";
import { randomSecret, secretKey } from "./oidc-stores.js";

/** How long a login page stays usable. */
const PENDING_TTL_MS = 10 * 60_000;
/** Codes are short-lived and single-use (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const CODE_TTL_MS = 60_000;
export const SUPPORTED_SCOPES = ["openid", "email", "profile", "groups", "offline_access"] as const;
/** RFC 7636 §4.2: BASE64URL(SHA-256) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

type AuthorizeError = { error: string; description: string };

/** Parameter checks after the client and redirect_uri are trusted; errors go back by redirect. */
function checkRequest(params: Params & { ok: true }): AuthorizeError | undefined {
  const invalid = (description: string) => ({ error: "invalid_request", description });
  if (params.get("request") !== undefined)
    return { error: "request_not_supported", description: "request objects are not supported" };
  if (params.get("request_uri") !== undefined)
    return { error: "request_uri_not_supported", description: "request_uri is not supported" };
  if (params.get("response_type") !== "code")
    return { error: "unsupported_response_type", description: "only response_type=code is supported" };
  const mode = params.get("response_mode");
  if (mode !== undefined && mode !== "query") return invalid("only response_mode=query is supported");
  const scopes = (params.get("scope") ?? "").split(" ").filter((s) => s !== "");
  if (!scopes.includes("openid")) return { error: "invalid_scope", description: "scope must include openid" };
  if (scopes.some((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s)))
    return { error: "invalid_scope", description: `supported scopes: ${SUPPORTED_SCOPES.join(" ")}` };
  const challenge = params.get("code_challenge");
  if (challenge === undefined) return invalid("code_challenge is required (PKCE)");
  if (params.get("code_challenge_method") !== "S256") return invalid("code_challenge_method must be S256");
  if (!S256_CHALLENGE.test(challenge)) return invalid("code_challenge is not a S256 challenge");
  const maxAge = params.get("max_age");
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge))
    return invalid("max_age must be a number of seconds");
  const prompt = (params.get("prompt") ?? "").split(" ").filter((p) => p !== "");
  if (prompt.some((p) => !["none", "login", "consent", "select_account"].includes(p)))
    return invalid("unknown prompt value");
  if (prompt.includes("none") && prompt.length > 1)
    return invalid("prompt=none cannot be combined with other values");
  // Nobody is ever signed in here before the page is shown, so silent authentication always fails.
  if (prompt.includes("none")) return { error: "login_required", description: "the person must sign in" };
  return undefined;
}

function errorRedirect(
  context: ProviderContext,
  redirectUri: string,
  state: string | undefined,
  error: AuthorizeError,
) {
  const target = new URL(redirectUri);
  target.searchParams.set("error", error.error);
  target.searchParams.set("error_description", error.description);
  if (state !== undefined) target.searchParams.set("state", state);
  target.searchParams.set("iss", context.issuer());
  return target.href;
}

/** GET /authorize: validate, then show the login page; bad client or redirect_uri → 400 page, never a redirect. */
export function handleAuthorizeGet(context: ProviderContext, url: URL, res: ServerResponse) {
  const params = parseParams(url.searchParams);
  if (!params.ok) return sendHtml(res, 400, renderErrorPage("Sign-in request refused", params.reason));
  const clientId = params.get("client_id");
  const client = clientId === undefined ? undefined : context.clients.get(clientId);
  if (client === undefined)
    return sendHtml(
      res,
      400,
      renderErrorPage("Sign-in request refused", "The application (client_id) is not registered."),
    );
  const redirectUri = params.get("redirect_uri");
  if (redirectUri === undefined || !client.redirectUris.includes(redirectUri))
    return sendHtml(
      res,
      400,
      renderErrorPage("Sign-in request refused", "The redirect_uri is not registered for this application."),
    );
  const state = params.get("state");
  const problem = clientAllows(client, "authorization_code")
    ? checkRequest(params)
    : { error: "unauthorized_client", description: "this client may not use the authorization code grant" };
  if (problem !== undefined) return redirect(res, errorRedirect(context, redirectUri, state, problem));
  const pendingId = randomSecret();
  const pending: PendingAuthorization = {
    clientId: client.clientId,
    redirectUri,
    state,
    nonce: params.get("nonce"),
    scope: params.get("scope") ?? "openid",
    codeChallenge: params.get("code_challenge") ?? "",
    expiresAtMs: context.clock().getTime() + PENDING_TTL_MS,
  };
  context.pending.set(secretKey(pendingId), pending);
  sendHtml(res, 200, renderLoginPage({ pendingId, client, people: context.people }), [
    new URL(redirectUri).origin,
  ]);
}

/** POST /authorize: the person clicked; issue a code bound to everything the request said. */
export async function handleAuthorizePost(
  context: ProviderContext,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const form = await readForm(req);
  if (!form.ok) return sendHtml(res, 400, renderErrorPage("Sign-in refused", form.reason));
  const pendingId = form.get("pending");
  const key = pendingId === undefined ? undefined : secretKey(pendingId);
  const pending = key === undefined ? undefined : context.pending.get(key);
  const now = context.clock().getTime();
  if (key === undefined || pending === undefined || pending.expiresAtMs <= now)
    return sendHtml(
      res,
      400,
      renderErrorPage(
        "Sign-in expired",
        "This sign-in page is no longer valid. Start again from the application.",
      ),
    );
  if (form.get("decision") === "deny") {
    context.pending.delete(key);
    const denied = { error: "access_denied", description: "the person cancelled the sign-in" };
    return redirect(res, errorRedirect(context, pending.redirectUri, pending.state, denied));
  }
  const person = context.people.find((candidate) => candidate.sub === form.get("person"));
  if (person === undefined)
    return sendHtml(res, 400, renderErrorPage("Sign-in refused", "Pick one of the people listed."));
  context.pending.delete(key);
  const code = randomSecret();
  context.codes.set(secretKey(code), {
    clientId: pending.clientId,
    sub: person.sub,
    scope: pending.scope,
    authTime: Math.floor(now / 1000),
    acr: context.acr,
    familyId: randomSecret(),
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    nonce: pending.nonce,
    expiresAtMs: now + CODE_TTL_MS,
    redeemed: false,
  });
  const target = new URL(pending.redirectUri);
  target.searchParams.set("code", code);
  if (pending.state !== undefined) target.searchParams.set("state", pending.state);
  target.searchParams.set("iss", context.issuer());
  redirect(res, target.href);
}
