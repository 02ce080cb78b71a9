import { createHash } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../http-edge.js";
import { startApi } from "../start-api.js";
import {
  CLI_CLIENT_ID,
  INDEX_HTML,
  type SignInStack,
  setCookie,
  signIn,
  startSignInStack,
  throughLoginPage,
} from "./test-sign-in.js";

/**
 * What the API serves a browser besides the sign-in: the console's files and their headers, the
 * CLI's sign-in settings, step-up sign-ins, the admins' sessions, and the production cookie.
 */

const SECURE_COOKIE = "__Host-leasehold-session";
let stack: SignInStack;

beforeAll(async () => {
  stack = await startSignInStack({ insecureCookies: false });
});
afterAll(async () => {
  await stack?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.api}${path}`, { headers, redirect: "manual" });
const csrfOf = async (cookie: string) =>
  ((await (await get("/auth/session", { cookie })).json()) as { csrfToken: string }).csrfToken;
const idHashOf = (cookie: string) =>
  createHash("sha256")
    .update(Buffer.from(cookie.split("=")[1] ?? "", "base64url"))
    .digest();

describe("the built console", () => {
  it("serves index.html at / with the console's CSP and no-cache", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe(INDEX_HTML);
  });

  it("serves hashed assets to be cached for a year; JSON keeps default-src 'none'", async () => {
    const asset = await get("/assets/app-3f9a.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
    const json = await get("/auth/session");
    expect(json.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("answers client routes with index.html; a missing file or a path outside the console with 404", async () => {
    const route = await get("/grants/5b0e6f5c-1111-4d5e-9b1c-000000000001");
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(INDEX_HTML);
    expect((await get("/assets/missing-1234.js")).status).toBe(404);
    expect((await get("/favicon.ico")).status).toBe(404);
    expect((await get("/assets/..%2f..%2fetc%2fpasswd")).status).toBe(404);
    expect((await get("/auth/nothing-here")).status).toBe(404);
  });
});

describe("sign-in settings and step-up", () => {
  it("GET /auth/cli tells the CLI its issuer, client and scopes", async () => {
    const response = await get("/auth/cli");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      issuer: stack.issuer.url,
      clientId: CLI_CLIENT_ID,
      scope: "openid email profile groups",
    });
  });

  it("asks the IdP for PKCE S256, state and nonce, and for a step-up target's max_age", async () => {
    const plain = new URL((await get("/auth/login")).headers.get("location") ?? "");
    expect(plain.searchParams.get("code_challenge_method")).toBe("S256");
    expect(plain.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(plain.searchParams.get("state")).toBeTruthy();
    expect(plain.searchParams.get("nonce")).toBeTruthy();
    expect(plain.searchParams.get("max_age")).toBeNull();
    const stepUp = new URL((await get("/auth/login?stepUp=prod-admin")).headers.get("location") ?? "");
    expect(stepUp.searchParams.get("max_age")).toBe("300");
  });

  it("completes a step-up sign-in, and refuses one whose acr is not the class the target asks for", async () => {
    const fresh = await throughLoginPage(stack, "dev", {
      cookieName: SECURE_COOKIE,
      loginPath: "/auth/login?stepUp=prod-admin&returnTo=/approvals",
    });
    const done = await fetch(fresh.callback, { headers: { cookie: fresh.loginCookie }, redirect: "manual" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/approvals");

    const start = await get("/auth/login?stepUp=prod-mfa");
    const asked = new URL(start.headers.get("location") ?? "");
    expect(asked.searchParams.get("max_age")).toBe("120");
    expect(asked.searchParams.get("acr_values")).toBe("urn:leasehold:mfa");
    const mfa = await throughLoginPage(stack, "dev", {
      cookieName: SECURE_COOKIE,
      loginPath: "/auth/login?stepUp=prod-mfa",
    });
    const refused = await fetch(mfa.callback, { headers: { cookie: mfa.loginCookie }, redirect: "manual" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("urn:leasehold:mfa");
    expect(setCookie(refused, SECURE_COOKIE)).toBeUndefined();
  });

  it("refuses an unknown step-up target and a returnTo off this site", async () => {
    expect((await get("/auth/login?stepUp=nope")).status).toBe(400);
    for (const returnTo of ["//evil.example/", "https://evil.example/", "/\\evil.example"]) {
      const response = await get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
    }
  });

  it("sets the __Host- cookie with Secure outside local mode", async () => {
    const { setCookieHeader } = await signIn(stack, "dev", SECURE_COOKIE);
    const attributes = setCookieHeader.split(";").map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["secure", "httponly", "samesite=strict", "path=/"]));
  });

  it("accepts the CLI client's ID tokens as bearer tokens", async () => {
    const token = await stack.issuer.mint(
      { sub: "sub-dev", email: "dev@example.com", email_verified: true, groups: ["engineering"] },
      { audience: CLI_CLIENT_ID },
    );
    const response = await get("/trpc/me", { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
  });
});

describe("sessions as admins see them", () => {
  it("records activity at most once a minute", async () => {
    const { cookie } = await signIn(stack, "dev", SECURE_COOKIE);
    const seen = async () =>
      (
        await stack.db.query<{ seen: Date; created: Date }>(
          "SELECT last_seen_at AS seen, created_at AS created FROM web_sessions WHERE id_hash = $1",
          [idHashOf(cookie)],
        )
      )[0];
    await get("/auth/session", { cookie });
    const fresh = await seen();
    expect(fresh?.seen.getTime()).toBe(fresh?.created.getTime());
    await stack.db.query(
      "UPDATE web_sessions SET last_seen_at = now() - interval '2 minutes' WHERE id_hash = $1",
      [idHashOf(cookie)],
    );
    await get("/auth/session", { cookie });
    expect(Date.now() - ((await seen())?.seen.getTime() ?? 0)).toBeLessThan(60_000);
  });

  it("lets an admin list and revoke sessions; the revoked cookie stops working at once", async () => {
    const dev = await signIn(stack, "dev", SECURE_COOKIE);
    const sec = await signIn(stack, "sec", SECURE_COOKIE);
    const secCsrf = await csrfOf(sec.cookie);
    const listing = await get(`/trpc/sessions.list?input=${encodeURIComponent("{}")}`, {
      cookie: sec.cookie,
    });
    expect(listing.status).toBe(200);
    const sessions = (
      (await listing.json()) as { result: { data: { id: string; principal: { id: string } }[] } }
    ).result.data;
    const [devRow] = await stack.db.query<{ id: string }>(
      "SELECT id::text FROM web_sessions WHERE id_hash = $1",
      [idHashOf(dev.cookie)],
    );
    expect(sessions.map((s) => s.id)).toContain(devRow?.id);
    expect(JSON.stringify(sessions)).not.toContain(dev.cookie.split("=")[1]);

    const revoke = await fetch(`${stack.api}/trpc/sessions.revoke`, {
      method: "POST",
      headers: { cookie: sec.cookie, "x-leasehold-csrf": secCsrf, "content-type": "application/json" },
      body: JSON.stringify({ sessionId: devRow?.id }),
    });
    expect(revoke.status).toBe(200);
    expect((await get("/auth/session", { cookie: dev.cookie })).status).toBe(401);
    const [ended] = await stack.db.query<{ ended_by: string }>(
      "SELECT ended_by FROM web_sessions WHERE id = $1",
      [devRow?.id],
    );
    expect(ended?.ended_by).toBe("revoked by sec@example.com");
    const events = await stack.db.query<{ action: string; actor: string; data: unknown }>(
      "SELECT action, actor, data FROM audit_events WHERE subject_type = 'session' AND subject_id = $1 ORDER BY seq",
      [devRow?.id],
    );
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["session.started", "dev@example.com"],
      ["session.revoked", "sec@example.com"],
    ]);
    expect(events[1]?.data).toEqual({ principalId: "dev@example.com" });
    expect(JSON.stringify(events)).not.toContain(dev.cookie.split("=")[1]);
  });

  it("refuses the listing and revocation to someone who may not read the audit trail", async () => {
    const dev = await signIn(stack, "dev", SECURE_COOKIE);
    const listing = await get(`/trpc/sessions.list?input=${encodeURIComponent("{}")}`, {
      cookie: dev.cookie,
    });
    expect(listing.status).toBe(403);
    const [own] = await stack.db.query<{ id: string }>(
      "SELECT id::text FROM web_sessions WHERE id_hash = $1",
      [idHashOf(dev.cookie)],
    );
    const revoke = await fetch(`${stack.api}/trpc/sessions.revoke`, {
      method: "POST",
      headers: {
        cookie: dev.cookie,
        "x-leasehold-csrf": await csrfOf(dev.cookie),
        "content-type": "application/json",
      },
      body: JSON.stringify({ sessionId: own?.id }),
    });
    expect(revoke.status).toBe(403);
    expect((await get("/auth/session", { cookie: dev.cookie })).status).toBe(200);
  });
});

describe("an API without console sign-in", () => {
  it("says so at /auth/session and serves no /auth/login or /auth/cli", async () => {
    const api = await startApi({
      useCases: stack.broker,
      readiness: {},
      identityProviders: [],
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      rateLimits: {
        store: { kind: "postgres", database: stack.db },
        rates: { window: 60, requests: 10, leases: 10, revocations: 10 },
      },
    });
    try {
      const session = await fetch(`${api.address}/auth/session`);
      expect(session.status).toBe(401);
      expect(await session.json()).toEqual({ error: "console sign-in is not configured" });
      expect((await fetch(`${api.address}/auth/cli`)).status).toBe(404);
      expect((await fetch(`${api.address}/auth/login`, { redirect: "manual" })).status).toBe(404);
      expect((await fetch(`${api.address}/`)).status).toBe(404);
    } finally {
      await api.close();
    }
  });
});
