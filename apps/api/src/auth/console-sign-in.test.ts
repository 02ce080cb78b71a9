import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../http-edge.js";
import { type SignInStack, setCookie, signIn, startSignInStack, throughLoginPage } from "./test-sign-in.js";

/**
 * The console's sign-in end to end: a browser's requests (plain fetch, cookies by hand) through the
 * OIDC stand-in's login page, the API as startApi serves it, sessions in a real PostgreSQL.
 */

const COOKIE = "leasehold-session";
let stack: SignInStack;

beforeAll(async () => {
  stack = await startSignInStack({ insecureCookies: true });
});
afterAll(async () => {
  await stack?.close();
});

const sessionOf = (cookie: string) => fetch(`${stack.api}/auth/session`, { headers: { cookie } });
const sessionRows = async () =>
  (await stack.db.query<{ n: string }>("SELECT count(*)::text AS n FROM web_sessions"))[0]?.n;
const requestRows = async () =>
  (await stack.db.query<{ n: string }>("SELECT count(*)::text AS n FROM access_requests"))[0]?.n;

/** requests.create as the console's httpBatchLink sends a mutation. */
const createRequest = (headers: Record<string, string>) =>
  fetch(`${stack.api}/trpc/requests.create`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ targetId: "prod-readonly", durationSeconds: 900, reason: "look at INC-7" }),
  });

describe("console sign-in (authorization code + PKCE through the stand-in)", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie and sends the browser back to returnTo", async () => {
    const { response, setCookieHeader } = await signIn(stack, "dev", COOKIE);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/grants");
    const attributes = setCookieHeader.split(";").map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["httponly", "samesite=strict", "path=/"]));
    // insecureCookies (local mode over http): no Secure, and not the __Host- name.
    expect(attributes).not.toContain("secure");
  });

  it("GET /auth/session answers the principal, the CSRF token and the sign-in's time and class", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const response = await sessionOf(cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.principal).toEqual({
      id: "dev@example.com",
      kind: "human",
      provider: "corp",
      groups: ["engineering"],
    });
    expect(body.csrfToken).toMatch(/^[\w-]{43}$/);
    expect(Date.now() - Date.parse(String(body.authTime))).toBeLessThan(60_000);
    expect(body.acr).toBe("urn:leasehold:local:password");
    expect(Date.parse(String(body.expiresAt)) - Date.now()).toBeGreaterThan(7 * 3600 * 1000);
  });

  it("stores only hashes: neither the cookie's value nor the CSRF token is in the database", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const csrf = ((await (await sessionOf(cookie)).json()) as { csrfToken: string }).csrfToken;
    const rows = await stack.db.query<{ dump: string }>(
      "SELECT row_to_json(s)::text AS dump FROM web_sessions s",
    );
    const dump = rows.map((r) => r.dump).join("\n");
    const value = cookie.split("=")[1] ?? "";
    expect(dump).not.toContain(value);
    expect(dump).not.toContain(Buffer.from(value, "base64url").toString("hex"));
    expect(dump).not.toContain(csrf);
  });

  it("refuses a cookie-authenticated mutation without the CSRF token (403, nothing changed) and runs it with", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const csrf = ((await (await sessionOf(cookie)).json()) as { csrfToken: string }).csrfToken;
    const before = await requestRows();

    const without = await createRequest({ cookie });
    expect(without.status).toBe(403);
    const wrong = await createRequest({
      cookie,
      "x-leasehold-csrf": `${csrf.slice(0, -1)}${csrf.endsWith("A") ? "B" : "A"}`,
    });
    expect(wrong.status).toBe(403);
    const otherOrigin = await createRequest({
      cookie,
      "x-leasehold-csrf": csrf,
      origin: "https://evil.example",
    });
    expect(otherOrigin.status).toBe(403);
    expect(await requestRows()).toBe(before);

    const withToken = await createRequest({ cookie, "x-leasehold-csrf": csrf, origin: stack.api });
    expect(withToken.status).toBe(200);
    expect(Number(await requestRows())).toBe(Number(before) + 1);
  });

  it("answers a query with the cookie alone, as the console's principal", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const response = await fetch(`${stack.api}/trpc/me`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain("dev@example.com");
  });

  it("refuses a callback whose state differs: an error page, no session, nothing stored", async () => {
    const before = await sessionRows();
    const { callback, loginCookie } = await throughLoginPage(stack, "dev", { cookieName: COOKIE });
    const forged = new URL(callback);
    forged.searchParams.set("state", "not-the-state-this-browser-started-with");
    const response = await fetch(forged, { headers: { cookie: loginCookie }, redirect: "manual" });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("state does not match");
    expect(page).toContain('href="/auth/login"');
    expect(page).not.toContain("<script");
    expect(response.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(setCookie(response, COOKIE)).toBeUndefined();
    expect(await sessionRows()).toBe(before);
  });

  it("refuses a replayed callback and a code used twice, starting no session", async () => {
    const first = await throughLoginPage(stack, "dev", { cookieName: COOKIE });
    const used = await fetch(first.callback, { headers: { cookie: first.loginCookie }, redirect: "manual" });
    expect(used.status).toBe(303);
    const before = await sessionRows();

    const replay = await fetch(first.callback, {
      headers: { cookie: first.loginCookie },
      redirect: "manual",
    });
    expect(replay.status).toBe(400);
    expect(setCookie(replay, COOKIE)).toBeUndefined();

    // A new sign-in's state with the first sign-in's (redeemed) code: the IdP refuses the code.
    const second = await throughLoginPage(stack, "dev", { cookieName: COOKIE });
    const reused = new URL(second.callback);
    reused.searchParams.set("code", new URL(first.callback).searchParams.get("code") ?? "");
    const response = await fetch(reused, { headers: { cookie: second.loginCookie }, redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("already used or has expired");
    expect(setCookie(response, COOKIE)).toBeUndefined();
    expect(await sessionRows()).toBe(before);
  });

  it("finishes at any replica a sign-in another replica began (sign-ins in flight are in the database)", async () => {
    const { callback, loginCookie } = await throughLoginPage(stack, "dev", {
      cookieName: COOKIE,
      at: stack.replica,
    });
    expect(callback.startsWith(`${stack.api}/auth/callback?`)).toBe(true);
    const handle = loginCookie.split("=")[1] ?? "";
    const stored = await stack.db.query<{ dump: string }>(
      "SELECT row_to_json(l)::text AS dump FROM web_logins l",
    );
    expect(stored.map((r) => r.dump).join("\n")).not.toContain(handle);
    const response = await fetch(callback, { headers: { cookie: loginCookie }, redirect: "manual" });
    expect(response.status).toBe(303);
    expect(setCookie(response, COOKIE)).toBeDefined();
  });

  it("refuses a sign-in that took longer than ten minutes", async () => {
    const { callback, loginCookie } = await throughLoginPage(stack, "dev", { cookieName: COOKIE });
    await stack.db.query("UPDATE web_logins SET expires_at = now() - interval '1 second'");
    const before = await sessionRows();
    const response = await fetch(callback, { headers: { cookie: loginCookie }, redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("took too long");
    expect(await sessionRows()).toBe(before);
  });

  it("shows the IdP's refusal when the person cancels at the login page", async () => {
    const { callback, loginCookie } = await throughLoginPage(stack, "dev", {
      cookieName: COOKIE,
      decision: "deny",
    });
    const response = await fetch(callback, { headers: { cookie: loginCookie }, redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("access_denied");
  });

  it("ends the session at logout (CSRF required): the cookie no longer works", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const csrf = ((await (await sessionOf(cookie)).json()) as { csrfToken: string }).csrfToken;
    const refused = await fetch(`${stack.api}/auth/logout`, { method: "POST", headers: { cookie } });
    expect(refused.status).toBe(403);
    expect((await sessionOf(cookie)).status).toBe(200);

    const logout = await fetch(`${stack.api}/auth/logout`, {
      method: "POST",
      headers: { cookie, "x-leasehold-csrf": csrf },
    });
    expect(logout.status).toBe(204);
    expect(setCookie(logout, COOKIE)?.header).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    const [ended] = await stack.db.query<{ actor: string; data: unknown }>(
      "SELECT actor, data FROM audit_events WHERE action = 'session.ended' ORDER BY seq DESC LIMIT 1",
    );
    expect(ended).toEqual({ actor: "dev@example.com", data: { reason: "signed out" } });
    expect((await sessionOf(cookie)).status).toBe(401);
    const trpc = await fetch(`${stack.api}/trpc/me`, { headers: { cookie } });
    expect(trpc.status).toBe(401);
  });

  it("refuses an expired session (401) without changing it", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const idHash = createHash("sha256")
      .update(Buffer.from(cookie.split("=")[1] ?? "", "base64url"))
      .digest();
    const [row] = await stack.db.query<{ id: string }>(
      `UPDATE web_sessions SET created_at = now() - interval '9 hours', expires_at = now() - interval '1 second',
         last_seen_at = now() - interval '1 hour' WHERE id_hash = $1 RETURNING id::text`,
      [idHash],
    );
    expect(row).toBeDefined();
    const snapshot = async () =>
      (
        await stack.db.query<{ dump: string }>(
          "SELECT row_to_json(s)::text AS dump FROM web_sessions s WHERE id = $1",
          [row?.id],
        )
      )[0]?.dump;
    const before = await snapshot();
    const response = await sessionOf(cookie);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "not signed in", loginUrl: "/auth/login" });
    expect((await fetch(`${stack.api}/trpc/me`, { headers: { cookie } })).status).toBe(401);
    expect(await snapshot()).toBe(before);
  });

  it("refuses a tampered cookie (401 and tRPC UNAUTHORIZED)", async () => {
    const { cookie } = await signIn(stack, "dev", COOKIE);
    const last = cookie.at(-1) === "A" ? "B" : "A";
    const tampered = `${cookie.slice(0, -1)}${last}`;
    expect((await sessionOf(tampered)).status).toBe(401);
    const trpc = await fetch(`${stack.api}/trpc/me`, { headers: { cookie: tampered } });
    expect(trpc.status).toBe(401);
    expect(JSON.stringify(await trpc.json())).toContain("UNAUTHORIZED");
    const before = await requestRows();
    expect((await createRequest({ cookie: tampered, "x-leasehold-csrf": "x" })).status).toBe(401);
    expect(await requestRows()).toBe(before);
  });
});
