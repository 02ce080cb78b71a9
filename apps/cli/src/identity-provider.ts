import * as oidc from "openid-client";
import { z } from "zod";
import { CliError, EXIT } from "./exit-codes.js";
import type { StoredLogin } from "./token-file.js";

/**
 * The CLI's side of OpenID Connect: where Leasehold says to sign in (`GET /auth/cli`), the issuer's
 * configuration, and turning a token response into the login the token file stores.
 */

/** Plain http is for an issuer on this machine only (local mode, tests); anything else needs https. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

const issuerUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((value) => {
    const url = new URL(value);
    return (url.protocol === "https:" || isLoopbackHttp(url)) && !url.username && !url.password;
  }, "must be an https URL (http only on 127.0.0.1 or localhost)");

export const cliLoginSettingsSchema = z.object({
  issuer: issuerUrl,
  clientId: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII"),
  scope: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, "must be scope tokens")
    .refine((scope) => scope.split(" ").includes("openid"), "must include openid"),
});

export type CliLoginSettings = z.infer<typeof cliLoginSettingsSchema>;

/** The most `/auth/cli` may answer; its real answer is a few hundred bytes. */
const MAX_SETTINGS_BYTES = 16 * 1024;

/** Asks the Leasehold API which identity provider and client the CLI signs in with. */
export async function fetchCliLoginSettings(apiUrl: string): Promise<CliLoginSettings> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl.replace(/\/$/, "")}/auth/cli`, {
      headers: { accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new CliError(
      `cannot reach Leasehold at ${apiUrl}; is it running? (set LEASEHOLD_URL)`,
      EXIT.unavailable,
    );
  }
  if (response.status === 404) {
    await response.body?.cancel();
    throw new CliError("this Leasehold server has no sign-in configured; use --token-file", EXIT.usage);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new CliError(
      `Leasehold answered ${response.status} to /auth/cli`,
      response.status >= 500 ? EXIT.unavailable : EXIT.failure,
    );
  }
  const json = await boundedJson(response, MAX_SETTINGS_BYTES);
  if (json === undefined)
    throw new CliError("Leasehold's /auth/cli answer is not JSON of at most 16 KiB", EXIT.failure);
  const parsed = cliLoginSettingsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new CliError(`Leasehold's /auth/cli answer is not valid: ${problems}`, EXIT.failure);
  }
  return parsed.data;
}

/** The body as JSON, read no further than `maxBytes`; undefined when it is longer or not JSON. */
async function boundedJson(response: Response, maxBytes: number): Promise<unknown> {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    length += next.value.byteLength;
    if (length > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(next.value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The issuer's configuration (discovery) for the CLI, a public client (no secret: it could not keep one). */
export async function issuerConfiguration(issuer: string, clientId: string): Promise<oidc.Configuration> {
  const url = new URL(issuer);
  try {
    return await oidc.discovery(url, clientId, undefined, oidc.None(), {
      execute: isLoopbackHttp(url) ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
  } catch {
    throw new CliError(
      `cannot read the identity provider's configuration at ${url.origin}`,
      EXIT.unavailable,
    );
  }
}

/** The login to store from a token response; the ID token's `exp` says when it must be refreshed. */
export function loginFromTokenResponse(
  issuer: string,
  clientId: string,
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  previousRefreshToken?: string,
): StoredLogin {
  const claims = tokens.claims();
  if (!tokens.id_token || !claims) {
    throw new CliError("the identity provider returned no ID token", EXIT.unauthenticated);
  }
  const refreshToken = tokens.refresh_token ?? previousRefreshToken;
  return {
    version: 1,
    issuer,
    clientId,
    idToken: tokens.id_token,
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  };
}

/** openid-client's errors for a request that timed out or was aborted, as opposed to an answer it refused. */
const unreachable = (error: oidc.ClientError) =>
  error.code === "OAUTH_TIMEOUT" || error.code === "OAUTH_ABORT";

const EXPIRED = "your sign-in has expired; run `leasehold login`";

/**
 * Redeems the stored refresh token for a new ID token. A refusal by the identity provider (revoked,
 * expired, reused) means signing in again; an unreachable one is said as such, not as an expiry.
 */
export async function refreshLogin(login: StoredLogin): Promise<StoredLogin> {
  if (!login.refreshToken) throw new CliError(EXPIRED, EXIT.unauthenticated);
  const config = await issuerConfiguration(login.issuer, login.clientId);
  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    tokens = await oidc.refreshTokenGrant(config, login.refreshToken);
  } catch (error) {
    if (
      error instanceof oidc.ResponseBodyError ||
      (error instanceof oidc.ClientError && !unreachable(error))
    ) {
      throw new CliError(EXPIRED, EXIT.unauthenticated);
    }
    throw new CliError(
      `cannot reach the identity provider at ${new URL(login.issuer).origin}`,
      EXIT.unavailable,
    );
  }
  if (!tokens.id_token) throw new CliError(EXPIRED, EXIT.unauthenticated);
  return loginFromTokenResponse(login.issuer, login.clientId, tokens, login.refreshToken);
}
