import type { JWTPayload } from "jose";
import type { OidcPerson, ProviderContext, SignIn } from "./oidc-provider-types.js";
import { randomSecret, secretKey } from "./oidc-stores.js";

/** Lifetime of ID and access tokens issued by the endpoints (mint keeps its own 300 s default). */
export const TOKEN_LIFETIME_SECONDS = 3_600;

export type TokenResponse = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  id_token: string;
  refresh_token?: string;
  scope: string;
};

function allowsRefresh(context: ProviderContext, clientId: string): boolean {
  const grants = context.clients.get(clientId)?.grantTypes;
  return grants === undefined || grants.includes("refresh_token");
}

/**
 * Signs an ID token and an access token for a completed sign-in and, when the client may refresh,
 * stores a new refresh token in the sign-in's family. `nonce` only on the first ID token of a sign-in.
 */
export async function issueTokens(
  context: ProviderContext,
  signIn: SignIn,
  person: OidcPerson,
  nonce?: string,
): Promise<TokenResponse> {
  const iat = Math.floor(context.clock().getTime() / 1000);
  const common: JWTPayload = {
    iss: context.issuer(),
    sub: person.sub,
    aud: signIn.clientId,
    azp: signIn.clientId,
    iat,
    exp: iat + TOKEN_LIFETIME_SECONDS,
    auth_time: signIn.authTime,
    acr: signIn.acr,
    email: person.email,
    email_verified: true,
    name: person.name,
    groups: [...person.groups],
  };
  const idToken = await context.sign({ ...common, ...(nonce === undefined ? {} : { nonce }) });
  const accessToken = await context.sign({ ...common, scope: signIn.scope, client_id: signIn.clientId });
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: TOKEN_LIFETIME_SECONDS,
    id_token: idToken,
    scope: signIn.scope,
  };
  if (allowsRefresh(context, signIn.clientId)) {
    const refreshToken = randomSecret();
    const { clientId, sub, scope, authTime, acr, familyId } = signIn;
    context.refreshTokens.set(secretKey(refreshToken), { clientId, sub, scope, authTime, acr, familyId });
    response.refresh_token = refreshToken;
  }
  return response;
}

/** Drops every refresh token descended from a code that was presented twice (RFC 6749 §4.1.2). */
export function revokeFamily(context: ProviderContext, familyId: string): void {
  const doomed: string[] = [];
  for (const [key, signIn] of context.refreshTokens.entries())
    if (signIn.familyId === familyId) doomed.push(key);
  for (const key of doomed) context.refreshTokens.delete(key);
}
