import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_ID,
  CLIENTS,
  DEV,
  deviceLogin,
  finished,
  newHome,
  startCli,
  tokenFile,
} from "./device-login-process.js";

/**
 * `leasehold login`'s device sign-in as a real process against the OIDC stand-in (device endpoints, token
 * endpoint with rotating refresh tokens) and a small stand-in for the API: `/auth/cli`, and a `/trpc/me`
 * that verifies the bearer ID token against the stand-in's JWKS, as the API does.
 */
/**
 * The API stand-in: `/<name>/auth/cli` and `/<name>/trpc/me` for each issuer; `/nologin/auth/cli` is a 404;
 * `/huge` and `/plain-http` answer what the CLI must refuse.
 */
async function startApiStandIn(issuers: Record<string, OidcIssuer>) {
  const bearers: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const [, name, ...rest] = url.pathname.split("/");
    const issuer = issuers[name ?? ""];
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    // Answers no API should give: an oversized one, and one sending the CLI to a plain-http issuer.
    if (name === "huge") return answer(200, { issuer: `https://idp.example.com/${"x".repeat(20_000)}` });
    if (name === "plain-http") {
      return answer(200, { issuer: "http://idp.example.com", clientId: CLIENT_ID, scope: "openid" });
    }
    if (!issuer) return answer(404, { error: "not found" });
    if (rest.join("/") === "auth/cli") {
      return answer(200, { issuer: issuer.url, clientId: CLIENT_ID, scope: "openid email profile groups" });
    }
    if (rest.join("/") !== "trpc/me") return answer(404, { error: "not found" });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    bearers.push(token);
    try {
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), {
        issuer: issuer.url,
        audience: CLIENT_ID,
      });
      const groups = (payload.groups as string[] | undefined) ?? [];
      answer(200, { result: { data: { id: payload.email, kind: "human", provider: "corp", groups } } });
    } catch (error) {
      const message = `the token was refused: ${(error as Error).message}`;
      answer(401, { error: { message, code: -32001, data: { code: "UNAUTHORIZED", httpStatus: 401 } } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name: string) => `http://127.0.0.1:${port}/${name}`,
    bearers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Each case runs the CLI as a process (a Node start each, 1–2 s on two busy cores) and waits for polls.
describe("leasehold login with the device grant", { timeout: 60_000 }, () => {
  let issuer: OidcIssuer;
  let shortIssuer: OidcIssuer;
  let api: Awaited<ReturnType<typeof startApiStandIn>>;

  beforeAll(async () => {
    const clients = CLIENTS;
    issuer = await startOidcIssuer({ people: [DEV], clients, deviceCode: { intervalSeconds: 1 } });
    shortIssuer = await startOidcIssuer({
      people: [DEV],
      clients,
      deviceCode: { expiresInSeconds: 2, intervalSeconds: 1 },
    });
    api = await startApiStandIn({ main: issuer, short: shortIssuer });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
    await shortIssuer?.close();
  });

  const run = (home: string, ...args: string[]) => finished(startCli(home, api.url("main"), ...args));
  const login = (home: string, decision: "approve" | "deny") =>
    deviceLogin(home, api.url("main"), issuer, decision);

  it("signs in when the code is approved, stores the tokens 0600 and whoami works", async () => {
    const home = newHome();
    const { prompt, result } = await login(home, "approve");
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(prompt.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(prompt.verificationUri).toBe(`${issuer.url}/device`);
    expect(prompt.verificationUriComplete).toContain(`${issuer.url}/device?user_code=`);
    expect(result.stderr).toContain(`open ${issuer.url}/device and enter the code ${prompt.userCode}`);
    expect(JSON.parse(result.stdout.slice(result.stdout.indexOf("\n") + 1))).toMatchObject({
      id: DEV.email,
      groups: DEV.groups,
    });

    const path = tokenFile(home);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(path, "utf8"));
    expect(stored).toMatchObject({ version: 1, issuer: issuer.url, clientId: CLIENT_ID });
    expect(stored.refreshToken).toEqual(expect.any(String));
    expect(Date.parse(stored.expiresAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
    // No token in anything the CLI printed.
    for (const secret of [stored.idToken, stored.refreshToken]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }

    const whoami = await run(home, "whoami");
    expect(whoami, whoami.stderr).toMatchObject({ code: 0 });
    expect(whoami.stdout).toMatch(/^dev@example\.com \(human, corp; groups: engineering\)/);
    expect(api.bearers.at(-1)).toBe(stored.idToken);

    expect(await run(home, "logout")).toMatchObject({ code: 0 });
    expect(await run(home, "whoami")).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/not logged in/),
    });
  });

  it("says so, with exit code 3, when the sign-in is denied", async () => {
    const home = newHome();
    const { result } = await login(home, "deny");
    expect(result).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("leasehold: the sign-in was denied at the identity provider"),
    });
    expect(() => statSync(tokenFile(home))).toThrow();
  });

  it("says so, with exit code 3, when the code expires before it is approved", async () => {
    const home = newHome();
    const result = await finished(startCli(home, api.url("short"), "login"));
    expect(result).toMatchObject({
      code: 3,
      stderr: expect.stringContaining(
        "leasehold: the sign-in code expired before it was approved; run `leasehold login` again",
      ),
    });
    expect(() => statSync(tokenFile(home))).toThrow();
  });

  it("refreshes an expired ID token before the next command, and saves the new tokens 0600", async () => {
    const home = newHome();
    expect((await login(home, "approve")).result).toMatchObject({ code: 0 });
    const path = tokenFile(home);
    const before = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...before, expiresAt: new Date(Date.now() - 1000).toISOString() }));

    const whoami = await run(home, "whoami");
    expect(whoami, whoami.stderr).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^dev@example\.com/),
    });
    const after = JSON.parse(readFileSync(path, "utf8"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(api.bearers.at(-1)).toBe(after.idToken);
  });

  it("asks for a new sign-in when the refresh token is refused", async () => {
    const home = newHome();
    expect((await login(home, "approve")).result).toMatchObject({ code: 0 });
    const path = tokenFile(home);
    const stored = JSON.parse(readFileSync(path, "utf8"));
    const expired = { ...stored, refreshToken: "not-a-refresh-token", expiresAt: new Date(0).toISOString() };
    writeFileSync(path, JSON.stringify(expired));
    expect(await run(home, "whoami")).toMatchObject({
      code: 3,
      stderr: "leasehold: your sign-in has expired; run `leasehold login`\n",
    });
  });

  it("keeps old bare-JWT token files working, and --token-file writes the new format", async () => {
    const home = newHome();
    const token = await issuer.mint(
      { sub: DEV.sub, email: DEV.email, groups: DEV.groups },
      { audience: CLIENT_ID },
    );
    const path = tokenFile(home);
    writeTokenFileAs(path, token);
    expect(await run(home, "whoami")).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^dev@example\.com/),
    });

    const brought = join(home, "brought.jwt");
    writeFileSync(brought, token);
    expect(await run(home, "login", "--token-file", brought)).toMatchObject({ code: 0 });
    const stored = JSON.parse(readFileSync(path, "utf8"));
    expect(stored).toEqual({
      version: 1,
      issuer: issuer.url,
      clientId: CLIENT_ID,
      idToken: token,
      expiresAt: expect.any(String),
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("tells people to bring a token when the server has no sign-in configured", async () => {
    const result = await finished(startCli(newHome(), api.url("nologin"), "login"));
    expect(result).toMatchObject({
      code: 2,
      stderr: "leasehold: this Leasehold server has no sign-in configured; use --token-file\n",
    });
  });

  it("refuses an /auth/cli answer that is too long, or that sends it to a plain-http issuer elsewhere", async () => {
    expect(await finished(startCli(newHome(), api.url("huge"), "login"))).toMatchObject({
      code: 1,
      stderr: "leasehold: Leasehold's /auth/cli answer is not JSON of at most 16 KiB\n",
    });
    const plain = await finished(startCli(newHome(), api.url("plain-http"), "login"));
    expect(plain).toMatchObject({ code: 1, stderr: expect.stringContaining("issuer: must be an https URL") });
  });
});

/** What older CLIs wrote: the bare JWT. */
function writeTokenFileAs(path: string, token: string) {
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(path, token, { mode: 0o600 });
}
