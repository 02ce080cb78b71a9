import { createRemoteJWKSet, jwtVerify } from "jose";
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  ClientSecretBasic,
  type Configuration,
  calculatePKCECodeChallenge,
  discovery,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  refreshTokenGrant,
} from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuer, startOidcIssuer } from "./oidc-issuer.js";

const CALLBACK = "http://127.0.0.1:9/auth/callback";
const ALICE = {
  sub: "alice",
  email: "alice@example.com",
  name: "Alice <Admin>",
  groups: ["admins", "oncall"],
};
const BOB = { sub: "bob", email: "bob@example.com", name: "Bob", groups: [] };
const ACR = "urn:leasehold:test:mfa";

describe("OIDC stand-in: authorization code with PKCE", () => {
  let issuer: OidcIssuer;
  let config: Configuration;
  let offsetMs = 0;
  beforeAll(async () => {
    issuer = await startOidcIssuer({
      people: [ALICE, BOB],
      clients: [{ clientId: "console", clientSecret: "console-secret", redirectUris: [CALLBACK] }],
      acr: ACR,
      clock: () => new Date(Date.now() + offsetMs),
    });
    config = await discovery(
      new URL(issuer.url),
      "console",
      "console-secret",
      ClientSecretBasic("console-secret"),
      {
        execute: [allowInsecureRequests],
      },
    );
  });
  afterAll(() => issuer.close());

  /** Starts a sign-in the way a relying party does; returns the login page and what the RP keeps. */
  async function startSignIn(extra: Record<string, string> = {}) {
    const verifier = randomPKCECodeVerifier();
    const state = randomState();
    const nonce = randomNonce();
    const url = buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: "openid email profile groups",
      state,
      nonce,
      code_challenge: await calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      ...extra,
    });
    const page = await fetch(url, { redirect: "manual" });
    return { page, html: await page.text(), verifier, state, nonce };
  }

  /** Clicks a person's button on the login page; returns the callback URL the browser is sent to. */
  async function clickPerson(html: string, person: string): Promise<URL> {
    const pending = /name="pending" value="([^"]+)"/.exec(html)?.[1];
    expect(pending).toBeDefined();
    const answer = await fetch(`${issuer.url}/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ pending: pending ?? "", person }),
      redirect: "manual",
    });
    expect(answer.status).toBe(303);
    return new URL(answer.headers.get("location") ?? "");
  }

  it("signs a person in: the ID token verifies and carries nonce, auth_time, acr and groups", async () => {
    const { page, html, verifier, state, nonce } = await startSignIn({ max_age: "300" });
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(html).toContain('<form method="post" action="/authorize">');
    expect(html).toContain(
      '<button type="submit" name="person" value="alice">Sign in as Alice &lt;Admin&gt; (alice@example.com)</button>',
    );
    expect(html).not.toContain("<Admin>");
    expect(html).not.toMatch(/<script|style=/);

    const clickedAt = Math.floor(Date.now() / 1000);
    const callback = await clickPerson(html, "alice");
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get("iss")).toBe(issuer.url);
    expect(callback.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tokens = await authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      maxAge: 300,
    });
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token ?? "", jwks, {
      issuer: issuer.url,
      audience: "console",
      algorithms: ["RS256"],
    });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: "alice",
      azp: "console",
      nonce,
      acr: ACR,
      email: "alice@example.com",
      email_verified: true,
      name: "Alice <Admin>",
      groups: ["admins", "oncall"],
    });
    expect(payload.auth_time).toBeGreaterThanOrEqual(clickedAt);
    expect(payload.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    const access = await jwtVerify(tokens.access_token, jwks, { issuer: issuer.url, audience: "console" });
    expect(access.payload).toMatchObject({ sub: "alice", groups: ["admins", "oncall"] });
    expect(access.payload).not.toHaveProperty("nonce");
  });

  it("a confidential client with a wrong secret, by either method, is invalid_client (401)", async () => {
    const basic = Buffer.from("console:wrong-secret").toString("base64");
    const attempts: RequestInit[] = [
      { headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` } },
      { headers: { "content-type": "application/x-www-form-urlencoded" } },
    ];
    for (const [index, init] of attempts.entries()) {
      const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: "unknown" });
      if (index === 1) body.set("client_id", "console");
      const answer = await fetch(`${issuer.url}/token`, { method: "POST", body, ...init });
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ error: "invalid_client" });
    }
  });

  it("a wrong code_verifier is invalid_grant, and the code is spent", async () => {
    const { html, verifier, state } = await startSignIn();
    const callback = await clickPerson(html, "bob");
    await expect(
      authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: randomPKCECodeVerifier(),
        expectedState: state,
      }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(
      authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("a reused code is invalid_grant and revokes the refresh token it bought", async () => {
    const { html, verifier, state, nonce } = await startSignIn();
    const callback = await clickPerson(html, "bob");
    const checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce };
    const tokens = await authorizationCodeGrant(config, callback, checks);
    await expect(authorizationCodeGrant(config, callback, checks)).rejects.toMatchObject({
      error: "invalid_grant",
    });
    await expect(refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("a code presented after 60 seconds is invalid_grant", async () => {
    const { html, verifier, state } = await startSignIn();
    const callback = await clickPerson(html, "bob");
    offsetMs = 61_000;
    try {
      await expect(
        authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
      ).rejects.toMatchObject({ error: "invalid_grant" });
    } finally {
      offsetMs = 0;
    }
  });

  it("refresh rotates the refresh token, keeps auth_time, and the old one stops working", async () => {
    const { html, verifier, state, nonce } = await startSignIn();
    const callback = await clickPerson(html, "alice");
    const first = await authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const second = await refreshTokenGrant(config, first.refresh_token ?? "");
    expect(second.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.claims()?.auth_time).toBe(first.claims()?.auth_time);
    expect(second.claims()?.sub).toBe("alice");
    expect(second.claims()).not.toHaveProperty("nonce");
    await expect(refreshTokenGrant(config, first.refresh_token ?? "")).rejects.toMatchObject({
      error: "invalid_grant",
    });
    expect((await refreshTokenGrant(config, second.refresh_token ?? "")).refresh_token).toBeDefined();
  });
});
