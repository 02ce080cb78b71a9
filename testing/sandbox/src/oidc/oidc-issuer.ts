import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { baseUrl, closeServer, listen } from "../http/http-server.js";

/**
 * A minimal OpenID Connect issuer for tests and local mode: discovery, a JWKS with one RS256 and one
 * ES256 key (generated at start, never persisted), and `mint` to sign whatever token a test needs,
 * including broken ones. It has no login, authorization or token endpoint: tokens come from `mint`.
 */

export type OidcSigningAlg = "RS256" | "ES256";

export type MintOptions = {
  /** Signing algorithm, or "none" for an unsigned token; default RS256. */
  alg?: OidcSigningAlg | "none";
  /** Header `kid`; default the kid of the issuer's key for `alg`. */
  kid?: string;
  /** `aud` claim, when the claims do not carry one. */
  audience?: string | string[];
  /** Claim overrides in epoch seconds (defaults: iat = now, exp = now + 300). */
  iat?: number;
  exp?: number;
  nbf?: number;
  /** Claims to leave out entirely, e.g. ["exp"] or ["iss"]. */
  omit?: readonly string[];
  /**
   * Sign with a key that is not in the JWKS (but, unless `kid` says otherwise, under the kid of a
   * published key), as a forger would.
   */
  signWithUnknownKey?: boolean;
};

export type OidcIssuer = {
  /** The issuer identifier and base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  jwksUri: string;
  /** A compact JWT with `iss`, `iat`, `exp` (and `aud`) filled in unless the claims or options say otherwise. */
  mint(claims: JWTPayload, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
};

export type OidcIssuerOptions = {
  port?: number;
  host?: string;
  /** Time used for default `iat`/`exp`; default the wall clock. */
  clock?: () => Date;
};

/** Token lifetime when neither the claims nor the options set `exp`. */
const DEFAULT_LIFETIME_SECONDS = 300;

type SigningKey = { kid: string; privateKey: CryptoKey; publicJwk: JWK };

async function createSigningKey(alg: OidcSigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomUUID()}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const clock = options.clock ?? (() => new Date());
  const keys: Record<OidcSigningAlg, SigningKey> = {
    RS256: await createSigningKey("RS256"),
    ES256: await createSigningKey("ES256"),
  };
  const foreignKeys: Record<OidcSigningAlg, SigningKey> = {
    RS256: await createSigningKey("RS256"),
    ES256: await createSigningKey("ES256"),
  };

  let url = "";
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET") return json(405, { error: "method_not_allowed" });
    if (path === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
      });
    }
    if (path === "/jwks") return json(200, { keys: [keys.RS256.publicJwk, keys.ES256.publicJwk] });
    return json(404, { error: "not_found" });
  });

  const port = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  url = baseUrl(options.host ?? "127.0.0.1", port);

  async function mint(claims: JWTPayload, mintOptions: MintOptions = {}): Promise<string> {
    const now = Math.floor(clock().getTime() / 1000);
    const iat = mintOptions.iat ?? claims.iat ?? now;
    const payload: JWTPayload = {
      iss: url,
      ...(mintOptions.audience === undefined ? {} : { aud: mintOptions.audience }),
      ...claims,
      iat,
      exp: mintOptions.exp ?? claims.exp ?? iat + DEFAULT_LIFETIME_SECONDS,
      ...(mintOptions.nbf === undefined ? {} : { nbf: mintOptions.nbf }),
    };
    for (const claim of mintOptions.omit ?? []) delete payload[claim];

    const alg = mintOptions.alg ?? "RS256";
    if (alg === "none") return new UnsecuredJWT(payload).encode();
    const published = keys[alg];
    const key = mintOptions.signWithUnknownKey === true ? foreignKeys[alg] : published;
    return new SignJWT(payload)
      .setProtectedHeader({ alg, typ: "JWT", kid: mintOptions.kid ?? published.kid })
      .sign(key.privateKey);
  }

  return { url, jwksUri: `${url}/jwks`, mint, close: () => closeServer(server) };
}
