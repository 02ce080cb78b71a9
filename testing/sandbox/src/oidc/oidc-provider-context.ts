import type { OidcIssuerOptions, ProviderContext } from "./oidc-provider-types.js";
import { BoundedMap } from "./oidc-stores.js";

/** `acr` of ID tokens from a completed sign-in when the options name none. */
export const DEFAULT_ACR = "urn:leasehold:local:password";

const positiveSeconds = (name: string, value: number | undefined, fallback: number): number => {
  const seconds = value ?? fallback;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400)
    throw new Error(`OIDC stand-in: ${name} must be a whole number of seconds from 1 to 86400`);
  return seconds;
};

/**
 * The endpoints' shared state from the issuer's options; copies people and clients so a caller's later
 * edits do not leak in, and refuses duplicates, which would make sign-ins ambiguous.
 */
export function createProviderContext(
  options: OidcIssuerOptions,
  wiring: Pick<ProviderContext, "issuer" | "clock" | "sign">,
): ProviderContext {
  const people = (options.people ?? []).map((person) => ({ ...person, groups: [...person.groups] }));
  if (new Set(people.map((person) => person.sub)).size !== people.length)
    throw new Error("OIDC stand-in: two people share a sub");
  const clients = new Map(
    (options.clients ?? []).map((client) => [
      client.clientId,
      { ...client, redirectUris: [...client.redirectUris] },
    ]),
  );
  if (clients.size !== (options.clients ?? []).length)
    throw new Error("OIDC stand-in: two clients share a clientId");
  return {
    ...wiring,
    acr: options.acr ?? DEFAULT_ACR,
    people,
    clients,
    deviceCode: {
      expiresInSeconds: positiveSeconds(
        "deviceCode.expiresInSeconds",
        options.deviceCode?.expiresInSeconds,
        600,
      ),
      intervalSeconds: positiveSeconds("deviceCode.intervalSeconds", options.deviceCode?.intervalSeconds, 5),
    },
    pending: new BoundedMap(),
    codes: new BoundedMap(),
    devices: new BoundedMap(),
    userCodes: new BoundedMap(),
    refreshTokens: new BoundedMap(),
    userCodeFailures: [],
  };
}
