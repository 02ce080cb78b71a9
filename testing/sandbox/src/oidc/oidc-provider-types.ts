import type { JWTPayload } from "jose";
import type { BoundedMap } from "./oidc-stores.js";

/** A person who can sign in at the stand-in's login page (one button each). */
export type OidcPerson = { sub: string; email: string; name: string; groups: string[] };

export type OidcGrantType =
  | "authorization_code"
  | "refresh_token"
  | "urn:ietf:params:oauth:grant-type:device_code";

/** A registered client; without `clientSecret` it is public and authenticates with `none`. */
export type OidcClient = {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  /** Grants the client may use; default all three. */
  grantTypes?: OidcGrantType[];
};

export type OidcDeviceCodeOptions = {
  /** Lifetime of a device code and its user code; default 600. */
  expiresInSeconds?: number;
  /** Minimum seconds between polls; default 5. */
  intervalSeconds?: number;
};

/** An /authorize request waiting for someone to pick a person on the login page. */
export type PendingAuthorization = {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  nonce: string | undefined;
  scope: string;
  codeChallenge: string;
  expiresAtMs: number;
};

/** What a completed sign-in grants; carried by codes, device codes and refresh tokens. */
export type SignIn = {
  clientId: string;
  sub: string;
  scope: string;
  /** Epoch seconds of the click that signed the person in. */
  authTime: number;
  acr: string;
  /** Refresh tokens descend from one code or device code; reusing that code revokes the family. */
  familyId: string;
};

export type AuthorizationCode = SignIn & {
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  expiresAtMs: number;
  redeemed: boolean;
};

export type DeviceAuthorization = {
  clientId: string;
  scope: string;
  /** Normalized (8 charset letters, no dash). */
  userCode: string;
  expiresAtMs: number;
  intervalSeconds: number;
  lastPollAtMs: number | undefined;
  status: "pending" | "approved" | "denied" | "redeemed";
  signIn: SignIn | undefined;
};

/** Everything the endpoints share; maps are keyed by the SHA-256 (hex) of the secret they stand for. */
export type ProviderContext = {
  issuer: () => string;
  clock: () => Date;
  acr: string;
  people: readonly OidcPerson[];
  clients: Map<string, OidcClient>;
  deviceCode: { expiresInSeconds: number; intervalSeconds: number };
  sign: (payload: JWTPayload) => Promise<string>;
  pending: BoundedMap<PendingAuthorization>;
  codes: BoundedMap<AuthorizationCode>;
  devices: BoundedMap<DeviceAuthorization>;
  /** Normalized user code → device code hash. */
  userCodes: BoundedMap<string>;
  refreshTokens: BoundedMap<SignIn>;
  /** Epoch ms of recent wrong user codes, to throttle guessing (RFC 8628 §5.1). */
  userCodeFailures: number[];
};

export type OidcIssuerOptions = {
  port?: number;
  host?: string;
  /** Time used for default `iat`/`exp`; default the wall clock. */
  clock?: () => Date;
  /** People who can sign in (one button each on the login and device pages). */
  people?: OidcPerson[];
  /** Registered clients; none means /authorize and /token refuse everyone. */
  clients?: OidcClient[];
  deviceCode?: OidcDeviceCodeOptions;
  /** `acr` of ID tokens from a completed sign-in; default "urn:leasehold:local:password". */
  acr?: string;
};
