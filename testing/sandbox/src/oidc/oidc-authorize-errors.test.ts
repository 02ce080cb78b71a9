import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuer, startOidcIssuer } from "./oidc-issuer.js";

const CALLBACK = "http://127.0.0.1:9/auth/callback";
const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");
const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("OIDC stand-in: authorization request errors", () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer({
      people: [{ sub: "alice", email: "alice@example.com", name: "Alice", groups: [] }],
      clients: [{ clientId: "spa", redirectUris: [CALLBACK] }],
    });
  });
  afterAll(() => issuer.close());

  const authorize = (params: Record<string, string>) =>
    fetch(`${issuer.url}/authorize?${new URLSearchParams(params)}`, { redirect: "manual" });
  const valid = {
    response_type: "code",
    client_id: "spa",
    redirect_uri: CALLBACK,
    scope: "openid email",
    state: "s-1",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
  };

  it("an unregistered redirect_uri or unknown client gets a 400 page, never a redirect", async () => {
    for (const params of [
      { ...valid, redirect_uri: "http://127.0.0.1:9/auth/callback/evil" },
      { ...valid, client_id: "nobody" },
    ]) {
      const answer = await authorize(params);
      expect(answer.status).toBe(400);
      expect(answer.headers.get("location")).toBeNull();
      expect(answer.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await answer.text()).toContain('role="alert"');
    }
  });

  it("allowRedirectUri registers a callback after start; unknown clients are refused", async () => {
    const late = "http://127.0.0.1:9/late/callback";
    expect((await authorize({ ...valid, redirect_uri: late })).status).toBe(400);
    issuer.allowRedirectUri("spa", late);
    const page = await authorize({ ...valid, redirect_uri: late });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("form-action 'self' http://127.0.0.1:9;");
    expect(() => issuer.allowRedirectUri("nobody", late)).toThrow(/nobody/);
    expect(issuer.people.map((person) => person.sub)).toEqual(["alice"]);
  });

  it("a missing code_challenge, plain PKCE, or prompt=none redirects back with the error, state and iss", async () => {
    const { code_challenge: _omitted, ...withoutChallenge } = valid;
    const cases: [Record<string, string>, string][] = [
      [withoutChallenge, "invalid_request"],
      [{ ...valid, code_challenge_method: "plain" }, "invalid_request"],
      [{ ...valid, scope: "email" }, "invalid_scope"],
      [{ ...valid, response_type: "token" }, "unsupported_response_type"],
      [{ ...valid, prompt: "none" }, "login_required"],
    ];
    for (const [params, error] of cases) {
      const answer = await authorize(params);
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get("location") ?? "");
      expect(location.origin + location.pathname).toBe(CALLBACK);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        error,
        state: "s-1",
        iss: issuer.url,
      });
      expect(location.searchParams.has("code")).toBe(false);
    }
  });

  it("a public client redeems with PKCE and no secret; a mismatched redirect_uri is invalid_grant", async () => {
    const page = await (await authorize(valid)).text();
    const pending = /name="pending" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const clicked = await fetch(`${issuer.url}/authorize`, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ pending, person: "alice" }),
      redirect: "manual",
    });
    const code = new URL(clicked.headers.get("location") ?? "").searchParams.get("code") ?? "";
    const redeem = (redirectUri: string) =>
      fetch(`${issuer.url}/token`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: "spa",
          code,
          code_verifier: VERIFIER,
          redirect_uri: redirectUri,
        }),
      });
    const wrong = await redeem("http://127.0.0.1:9/other");
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("cache-control")).toBe("no-store");
    expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });

    // The pending id was single-use too: the same page cannot mint a second code.
    const replay = await fetch(`${issuer.url}/authorize`, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ pending, person: "alice" }),
      redirect: "manual",
    });
    expect(replay.status).toBe(400);
  });

  it("the token endpoint refuses bad client credentials, other methods, other content types and big bodies", async () => {
    const token = (init: RequestInit) => fetch(`${issuer.url}/token`, { method: "POST", ...init });
    const secretForPublic = await token({
      headers: FORM,
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: "spa",
        client_secret: "x",
        refresh_token: "r",
      }),
    });
    expect(secretForPublic.status).toBe(401);
    expect(await secretForPublic.json()).toMatchObject({ error: "invalid_client" });
    const json = await token({ headers: { "content-type": "application/json" }, body: "{}" });
    expect(await json.json()).toMatchObject({ error: "invalid_request" });
    const huge = await token({ headers: FORM, body: `client_id=spa&x=${"a".repeat(20_000)}` });
    expect(huge.status).toBe(400);
    const put = await fetch(`${issuer.url}/token`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST");
  });
});
