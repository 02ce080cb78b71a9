import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticateClient, clientAllows } from "./oidc-client-auth.js";
import { pollDeviceCode } from "./oidc-device-endpoints.js";
import { type Params, readForm, sendJson, sendOAuthError } from "./oidc-http.js";
import type { OidcClient, ProviderContext } from "./oidc-provider-types.js";
import { secretKey, secretsEqual } from "./oidc-stores.js";
import { issueTokens, revokeFamily } from "./oidc-token-issuance.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

type Form = Params & { ok: true };

async function codeGrant(context: ProviderContext, client: OidcClient, form: Form, res: ServerResponse) {
  const code = form.get("code");
  const verifier = form.get("code_verifier");
  if (code === undefined) return sendOAuthError(res, "invalid_request", "code is required");
  if (verifier === undefined || !VERIFIER.test(verifier))
    return sendOAuthError(res, "invalid_request", "code_verifier is required (43-128 unreserved characters)");
  const key = secretKey(code);
  const grant = context.codes.get(key);
  if (grant === undefined || grant.clientId !== client.clientId)
    return sendOAuthError(res, "invalid_grant", "the code is unknown or was issued to another client");
  if (grant.redeemed) {
    // A second presentation means the code leaked: the tokens it bought are revoked too.
    revokeFamily(context, grant.familyId);
    return sendOAuthError(res, "invalid_grant", "the code was already used");
  }
  // Any attempt by its own client uses the code up, so a failed PKCE guess cannot be retried.
  grant.redeemed = true;
  if (grant.expiresAtMs <= context.clock().getTime())
    return sendOAuthError(res, "invalid_grant", "the code expired");
  if (form.get("redirect_uri") !== grant.redirectUri)
    return sendOAuthError(res, "invalid_grant", "redirect_uri does not match the authorization request");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  if (!secretsEqual(challenge, grant.codeChallenge))
    return sendOAuthError(res, "invalid_grant", "code_verifier does not match the code_challenge");
  const person = context.people.find((candidate) => candidate.sub === grant.sub);
  if (person === undefined) return sendOAuthError(res, "invalid_grant", "the person no longer exists");
  sendJson(res, 200, await issueTokens(context, grant, person, grant.nonce));
}

async function refreshGrant(context: ProviderContext, client: OidcClient, form: Form, res: ServerResponse) {
  const token = form.get("refresh_token");
  if (token === undefined) return sendOAuthError(res, "invalid_request", "refresh_token is required");
  const key = secretKey(token);
  const signIn = context.refreshTokens.get(key);
  if (signIn === undefined || signIn.clientId !== client.clientId)
    return sendOAuthError(res, "invalid_grant", "the refresh token is unknown, rotated or revoked");
  const requested = form.get("scope");
  const granted = signIn.scope.split(" ");
  if (requested?.split(" ").some((s) => s !== "" && !granted.includes(s)))
    return sendOAuthError(res, "invalid_scope", "a refresh cannot widen the scope");
  const person = context.people.find((candidate) => candidate.sub === signIn.sub);
  if (person === undefined) return sendOAuthError(res, "invalid_grant", "the person no longer exists");
  // Rotation: the presented token is spent; the new one keeps auth_time and the family.
  context.refreshTokens.delete(key);
  const scope = requested ?? signIn.scope;
  sendJson(res, 200, await issueTokens(context, { ...signIn, scope }, person));
}

/** POST /token: authorization_code (PKCE), refresh_token (rotating) and the RFC 8628 device grant. */
export async function handleToken(context: ProviderContext, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req);
  if (!form.ok) return sendOAuthError(res, "invalid_request", form.reason);
  const auth = authenticateClient(context, req, form);
  if (!auth.ok) return sendOAuthError(res, "invalid_client", "client authentication failed", 401);
  const grantType = form.get("grant_type");
  if (grantType === undefined) return sendOAuthError(res, "invalid_request", "grant_type is required");
  if (grantType !== "authorization_code" && grantType !== "refresh_token" && grantType !== DEVICE_GRANT)
    return sendOAuthError(
      res,
      "unsupported_grant_type",
      "supported: authorization_code, refresh_token, device_code",
    );
  if (!clientAllows(auth.client, grantType))
    return sendOAuthError(res, "unauthorized_client", "this client may not use that grant type");
  switch (grantType) {
    case "authorization_code":
      return codeGrant(context, auth.client, form, res);
    case "refresh_token":
      return refreshGrant(context, auth.client, form, res);
    case DEVICE_GRANT:
      return pollDeviceCode(context, auth.client, form, res);
  }
}
