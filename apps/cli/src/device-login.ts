import * as oidc from "openid-client";
import { z } from "zod";
import { CliError, EXIT } from "./exit-codes.js";
import {
  type CliLoginSettings,
  isLoopbackHttp,
  issuerConfiguration,
  loginFromTokenResponse,
} from "./identity-provider.js";
import type { StoredLogin } from "./token-file.js";

/**
 * Signing in from a terminal with the OAuth 2.0 device authorization grant (RFC 8628): the person opens a
 * URL in any browser and enters a short code, while the CLI polls the token endpoint (openid-client honours
 * `interval` and `slow_down`) until the sign-in is approved, denied or the code expires.
 */

/** What the person is shown: printed to stderr, and as one JSON line on stdout with --json. */
export type DevicePrompt = {
  verificationUri: string;
  userCode: string;
  verificationUriComplete?: string;
  expiresInSeconds: number;
};

/** A URL the identity provider asks us to print: http(s) only, and nothing a terminal would interpret. */
const printableUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .regex(/^[\x21-\x7e]+$/)
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === "https:" || isLoopbackHttp(url);
  });

const promptSchema = z.object({
  verification_uri: printableUrl,
  user_code: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x20-\x7e]+$/),
  verification_uri_complete: printableUrl.optional().catch(undefined),
  expires_in: z.number().int().positive(),
});

export const EXPIRED_CODE = "the sign-in code expired before it was approved; run `leasehold login` again";
export const DENIED = "the sign-in was denied at the identity provider";

export async function deviceLogin(
  settings: CliLoginSettings,
  show: (prompt: DevicePrompt) => void,
): Promise<StoredLogin> {
  const config = await issuerConfiguration(settings.issuer, settings.clientId);
  let authorization: oidc.DeviceAuthorizationResponse;
  try {
    authorization = await oidc.initiateDeviceAuthorization(config, { scope: settings.scope });
  } catch (error) {
    throw refusal(error, "the identity provider refused to start a device sign-in");
  }
  const prompt = promptSchema.safeParse(authorization);
  if (!prompt.success)
    throw new CliError("the identity provider's device sign-in answer is not valid", EXIT.failure);
  show({
    verificationUri: prompt.data.verification_uri,
    userCode: prompt.data.user_code,
    ...(prompt.data.verification_uri_complete
      ? { verificationUriComplete: prompt.data.verification_uri_complete }
      : {}),
    expiresInSeconds: prompt.data.expires_in,
  });
  const tokens = await pollUntilDecided(config, authorization, prompt.data.expires_in);
  return loginFromTokenResponse(settings.issuer, settings.clientId, tokens);
}

/**
 * Polls until the person decides or the code expires. openid-client keeps to `interval` and adds 5 s on
 * `slow_down`; when the identity provider cannot be reached or does not answer in time, polling goes on at
 * twice the interval each time (RFC 8628 §3.5), until the code expires.
 */
async function pollUntilDecided(
  config: oidc.Configuration,
  authorization: oidc.DeviceAuthorizationResponse,
  expiresInSeconds: number,
) {
  const codeExpiry = AbortSignal.timeout(expiresInSeconds * 1000);
  let interval = authorization.interval ?? 5;
  for (;;) {
    try {
      return await oidc.pollDeviceAuthorizationGrant(config, { ...authorization, interval }, undefined, {
        signal: codeExpiry,
      });
    } catch (error) {
      if (codeExpiry.aborted) throw new CliError(EXPIRED_CODE, EXIT.unauthenticated);
      const unreachable =
        error instanceof TypeError || (error instanceof oidc.ClientError && error.code === "OAUTH_TIMEOUT");
      if (!unreachable) throw refusal(error, "the sign-in failed at the identity provider");
      interval *= 2;
    }
  }
}

/** The message and exit code for a failed device sign-in, from openid-client's error. */
function refusal(error: unknown, fallback: string): CliError {
  if (error instanceof oidc.ResponseBodyError) {
    if (error.error === "expired_token") return new CliError(EXPIRED_CODE, EXIT.unauthenticated);
    if (error.error === "access_denied") return new CliError(DENIED, EXIT.unauthenticated);
    // The error code is an RFC 6749 token (printable ASCII); its description is not printed.
    const code = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error.error) ? ` (${error.error})` : "";
    return new CliError(`${fallback}${code}`, EXIT.unauthenticated);
  }
  if (error instanceof TypeError) return new CliError("cannot reach the identity provider", EXIT.unavailable);
  return new CliError(`${fallback}: ${error instanceof Error ? error.message : String(error)}`, EXIT.failure);
}
