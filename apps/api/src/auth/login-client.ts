import type { IdentityProviderConfig, LoginSettings } from "@leasehold/config";
import * as client from "openid-client";

/** A provider that signs people in, and the console client's secret (absent: a public client). */
export type LoginSetup = {
  readonly provider: IdentityProviderConfig & { readonly login: LoginSettings };
  readonly clientSecret?: string | undefined;
};

/** Plain http is allowed for an issuer on this machine only (local mode's stand-in), never beyond. */
export function isLoopbackHttp(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/**
 * The console client's openid-client configuration, discovered on first use and kept; a failed
 * discovery is retried on the next sign-in rather than stopping the API at start.
 */
export function createLoginClient(setup: LoginSetup): () => Promise<client.Configuration> {
  let configured: Promise<client.Configuration> | undefined;
  const discover = async () => {
    const { provider, clientSecret } = setup;
    const config = await client.discovery(
      new URL(provider.issuer),
      provider.login.clientId,
      clientSecret,
      clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
      {
        timeout: 5,
        ...(isLoopbackHttp(provider.issuer) ? { execute: [client.allowInsecureRequests] } : {}),
      },
    );
    // The ID token's signature is checked against the issuer's keys too, not only trusted for
    // having come over the back channel.
    client.enableNonRepudiationChecks(config);
    return config;
  };
  return () => {
    configured ??= discover().catch((error: unknown) => {
      configured = undefined;
      throw error;
    });
    return configured;
  };
}

/** What went wrong at the callback, in words safe to show: never a code, token or secret. */
export function describeCallbackError(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) {
    return `the identity provider refused the sign-in (${safeCode(error.error)})`;
  }
  if (error instanceof client.ResponseBodyError) {
    return error.error === "invalid_grant"
      ? "the sign-in code was already used or has expired"
      : `the identity provider refused the sign-in code (${safeCode(error.error)})`;
  }
  return "the identity provider's answer could not be verified";
}

const safeCode = (code: string) => (/^[a-z_]{1,64}$/.test(code) ? code : "error");
