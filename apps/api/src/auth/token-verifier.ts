import type { IdentityProviderConfig } from "@leasehold/config";
import {
  type Clock,
  emailPrincipalId,
  formatDuration,
  type Principal,
  UnauthenticatedError,
} from "@leasehold/domain";
import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from "jose";
import { z } from "zod";
import { createVerifiedTokenCache } from "./verified-token-cache.js";

/** Tokens larger than this are refused before any parsing. */
const MAX_TOKEN_BYTES = 8192;
/** Asymmetric algorithms only: never `none`, never HMAC with a key an attacker might know. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

const groupsSchema = z.array(z.string().min(1).max(256)).max(200);

/**
 * Longest lifetime (`exp - iat`) of a person's token when their provider sets no `maxTokenLifetime`:
 * ID tokens live minutes to an hour, so a day leaves room for any IdP while refusing a token minted
 * to last (a leaked signing key, a misconfigured client). Workload tokens have no default: Kubernetes
 * issues year-long projected tokens when service-account token extension is on (its default).
 */
const DEFAULT_HUMAN_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** Verified tokens remembered (see verified-token-cache.ts): enough for every workload of a large fleet. */
const CACHE_MAX_ENTRIES = 10_000;
/** Well below jose's 10-minute JWKS cache, so a key the issuer withdraws stops working as soon as before. */
const CACHE_MAX_AGE_MS = 60_000;

export type TokenVerifier = { verify(token: string): Promise<Principal> };

/**
 * Verifies `Authorization: Bearer` tokens against the identity providers in leasehold.yaml:
 * signature (keys from the provider's JWKS), issuer, audience, expiry and not-before with the
 * provider's clock skew, an issue time (`iat`, required) not in the future beyond that skew and a
 * lifetime within the provider's limit, then builds the principal from verified claims only.
 * Errors say what was wrong with the token and never repeat it.
 */
export function createTokenVerifier(
  providers: readonly IdentityProviderConfig[],
  options: { clock: Clock; fetch?: typeof fetch },
): TokenVerifier {
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const doFetch = options.fetch ?? fetch;
  const verified = createVerifiedTokenCache({ maxEntries: CACHE_MAX_ENTRIES, maxAgeMs: CACHE_MAX_AGE_MS });

  const keySetFor = async (provider: IdentityProviderConfig) => {
    let keys = keySets.get(provider.name);
    if (!keys) {
      const jwksUri = provider.jwksUri ?? (await discoverJwksUri(provider, doFetch));
      keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      keySets.set(provider.name, keys);
    }
    return keys;
  };

  return {
    async verify(token) {
      if (token.length === 0 || Buffer.byteLength(token) > MAX_TOKEN_BYTES) {
        throw new UnauthenticatedError("the bearer token is empty or too large");
      }
      const now = options.clock();
      const known = verified.get(token, now.getTime());
      if (known) return known;
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw new UnauthenticatedError("the bearer token is not a JWT");
      }
      const candidates = providers.filter((p) => p.issuer === unverified.iss);
      if (candidates.length === 0) throw new UnauthenticatedError("the token's issuer is not trusted");
      const audiences = typeof unverified.aud === "string" ? [unverified.aud] : (unverified.aud ?? []);
      const provider = candidates.find((p) => acceptedAudiences(p).some((a) => audiences.includes(a)));
      if (!provider) throw new UnauthenticatedError("the token is not meant for Leasehold (audience)");

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keySetFor(provider), {
          issuer: provider.issuer,
          audience: acceptedAudiences(provider),
          algorithms: ALGORITHMS,
          clockTolerance: provider.clockSkew,
          currentDate: now,
          requiredClaims: ["exp", "iat", "sub"],
        }));
      } catch (error) {
        throw new UnauthenticatedError(describeJoseError(error));
      }
      const principal = principalFromClaims(provider, payload, now);
      // `exp` is a required claim, so jwtVerify has checked it is a number.
      verified.set(token, principal, (payload.exp ?? 0) * 1000, now.getTime());
      return principal;
    },
  };
}

/** The provider's audience, and the CLI's client when people sign in with it (its ID tokens are bearers). */
function acceptedAudiences(provider: IdentityProviderConfig): string[] {
  const cli = provider.login?.cliClientId;
  return cli && cli !== provider.audience ? [provider.audience, cli] : [provider.audience];
}

/**
 * The principal of claims whose signature, issuer, audience and expiry were verified (by jwtVerify
 * here, by openid-client for the console's sign-in): the issue time and lifetime rules, then the
 * principal from verified claims only, with how it authenticated (`token`, and when, from `auth_time`).
 */
export function principalFromClaims(
  provider: IdentityProviderConfig,
  claims: JWTPayload,
  now: Date,
): Principal {
  assertIssueTime(provider, claims, now);
  const principal = toPrincipal(provider, claims);
  const authTime = typeof claims.auth_time === "number" ? new Date(claims.auth_time * 1000) : undefined;
  return { ...principal, authentication: { method: "token", ...(authTime ? { authTime } : {}) } };
}

/**
 * `iat` is required (a token without it is refused: its lifetime could not be bounded) and jwtVerify
 * has checked that `iat` and `exp` are numbers, but jose checks `iat` only against a maximum age.
 * Both checks here depend on the token alone or grow more lenient with time, so the verified-token
 * cache, which serves a token only after a full verification, accepts nothing this would refuse.
 */
function assertIssueTime(provider: IdentityProviderConfig, claims: JWTPayload, now: Date): void {
  const issuedAt = claims.iat ?? Number.POSITIVE_INFINITY;
  const expiresAt = claims.exp ?? Number.POSITIVE_INFINITY;
  if (issuedAt > Math.floor(now.getTime() / 1000) + provider.clockSkew) {
    throw new UnauthenticatedError(
      "the token was issued in the future (is the identity provider's clock right?)",
    );
  }
  const maxLifetime =
    provider.maxTokenLifetime ??
    (provider.kind === "human" ? DEFAULT_HUMAN_MAX_TOKEN_LIFETIME_SECONDS : undefined);
  if (maxLifetime !== undefined && !(expiresAt - issuedAt <= maxLifetime)) {
    throw new UnauthenticatedError(
      `the token has a lifetime of more than ${formatDuration(maxLifetime)}, the most ${provider.name} tokens may have`,
    );
  }
}

async function discoverJwksUri(provider: IdentityProviderConfig, doFetch: typeof fetch): Promise<string> {
  const url = `${provider.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    const response = await doFetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = await response.json();
  } catch {
    throw new UnauthenticatedError(
      `the identity provider ${provider.name} could not be reached to fetch its keys`,
    );
  }
  const parsed = z.object({ issuer: z.string(), jwks_uri: z.url() }).safeParse(document);
  if (!parsed.success || parsed.data.issuer !== provider.issuer) {
    throw new UnauthenticatedError(
      `the identity provider ${provider.name} published an unusable discovery document`,
    );
  }
  return parsed.data.jwks_uri;
}

function toPrincipal(provider: IdentityProviderConfig, claims: JWTPayload): Principal {
  const subject = claims.sub ?? "";
  const groups = groupsSchema.safeParse(claims[provider.groupsClaim] ?? []);
  if (!groups.success) {
    throw new UnauthenticatedError(`the token's ${provider.groupsClaim} claim is not a list of group names`);
  }
  const groupList = groups.data;
  if (subject.length === 0 || subject.length > 255)
    throw new UnauthenticatedError("the token's subject is invalid");

  if (provider.kind === "workload") {
    return {
      id: `${provider.name}:${subject}`,
      kind: "workload",
      provider: provider.name,
      subject,
      groups: groupList,
      claims: stringClaims(claims),
    };
  }
  const email = claims[provider.principalClaim];
  if (typeof email !== "string" || email.length > 254) {
    throw new UnauthenticatedError(`the token has no usable ${provider.principalClaim} claim`);
  }
  const id = emailPrincipalId(email);
  if (!id.ok) throw new UnauthenticatedError(`the token's ${provider.principalClaim} claim ${id.problem}`);
  if (provider.requireVerifiedEmail && claims.email_verified !== true) {
    throw new UnauthenticatedError("the token's email is not verified by the identity provider");
  }
  return {
    id: id.id,
    kind: "human",
    provider: provider.name,
    subject,
    groups: groupList,
  };
}

/** A workload's string claims (repository, namespace, …) for lease rules; bounded, nothing else kept. */
function stringClaims(claims: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims).slice(0, 100)) {
    if (typeof value === "string" && name.length <= 100 && value.length <= 255) out[name] = value;
  }
  return out;
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `the token has no ${error.claim} claim`;
    return error.claim === "nbf" || error.claim === "iat"
      ? "the token is not valid yet"
      : `the token's ${error.claim} claim is not acceptable`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return "the token is signed with an algorithm Leasehold does not accept";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (error instanceof errors.JWKSNoMatchingKey)
    return "the token is signed with a key the issuer does not publish";
  if (error instanceof UnauthenticatedError) return error.message;
  // Anything that is not a JOSE verdict on the token is trouble fetching the issuer's keys.
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
    return "the identity provider's keys could not be fetched";
  }
  return "the token is not valid";
}
