import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuer, startOidcIssuer } from "./oidc-issuer.js";

describe("OIDC issuer stand-in", () => {
  let issuer: OidcIssuer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
  });
  afterAll(() => issuer.close());

  const verify = (token: string) => jwtVerify(token, jwks, { issuer: issuer.url, audience: "leasehold" });

  it("serves discovery and a JWKS with an RS256 and an ES256 key", async () => {
    const discovery = await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({
      issuer: issuer.url,
      jwks_uri: issuer.jwksUri,
      id_token_signing_alg_values_supported: ["RS256", "ES256"],
    });
    const keySet = (await (await fetch(issuer.jwksUri)).json()) as { keys: Record<string, string>[] };
    expect(keySet.keys.map((key) => [key.kty, key.alg, typeof key.kid])).toEqual([
      ["RSA", "RS256", "string"],
      ["EC", "ES256", "string"],
    ]);
    // Public halves only.
    for (const key of keySet.keys) expect(key).not.toHaveProperty("d");
    // With no client registered, /authorize refuses with a page and never redirects.
    const authorize = await fetch(`${issuer.url}/authorize`, { redirect: "manual" });
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get("location")).toBeNull();
    expect((await fetch(`${issuer.url}/nowhere`)).status).toBe(404);
  });

  it("mints tokens that verify against the JWKS with the default claims filled in", async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await issuer.mint({ sub: "alice", email: "alice@example.com" }, { audience: "leasehold" });
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload).toMatchObject({
      iss: issuer.url,
      sub: "alice",
      aud: "leasehold",
      email: "alice@example.com",
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);

    const es256 = await issuer.mint({ sub: "bob", aud: "leasehold" }, { alg: "ES256" });
    expect((await verify(es256)).protectedHeader.alg).toBe("ES256");
  });

  it("a token signed with a key outside the JWKS fails verification, even under a published kid", async () => {
    const forged = await issuer.mint({ sub: "mallory", aud: "leasehold" }, { signWithUnknownKey: true });
    const published = await issuer.mint({ sub: "alice", aud: "leasehold" });
    expect(decodeProtectedHeader(forged).kid).toBe(decodeProtectedHeader(published).kid);
    await expect(verify(forged)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);

    const unknownKid = await issuer.mint(
      { sub: "mallory", aud: "leasehold" },
      { signWithUnknownKey: true, kid: "other" },
    );
    await expect(verify(unknownKid)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it("mints expired, not-yet-valid, claim-less and unsigned tokens for negative tests", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(
      verify(await issuer.mint({ aud: "leasehold" }, { iat: now - 600, exp: now - 60 })),
    ).rejects.toBeInstanceOf(errors.JWTExpired);
    await expect(verify(await issuer.mint({ aud: "leasehold" }, { nbf: now + 600 }))).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    const noIssuer = await issuer.mint({ aud: "leasehold" }, { omit: ["iss", "exp"] });
    await expect(verify(noIssuer)).rejects.toThrow(/"iss" claim/);

    const unsigned = await issuer.mint({ sub: "mallory", aud: "leasehold" }, { alg: "none" });
    expect(unsigned.endsWith(".")).toBe(true);
    expect(decodeProtectedHeader(unsigned).alg).toBe("none");
    await expect(verify(unsigned)).rejects.toThrow();
  });
});
