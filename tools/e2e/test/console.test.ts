import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPostgresDatabase, type LocalMode, startLocalMode } from "@leasehold/test-kit";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query, until } from "../src/api-calls.js";
import { browserFor, launchChromium, type PersonBrowser, screenshot, signIn } from "../src/browser.js";
import { runCli } from "../src/cli-process.js";

type Request = { id: string; state: string; targetId: string; reason: string };
type Grant = { id: string; requestId: string | null; state: string };

/**
 * The console in Debian's Chromium against local mode (a real process: API, worker, bot, the OIDC,
 * AWS and Slack stand-ins): people sign in through the identity provider's page, ask, approve,
 * reveal and revoke, and the security properties of the session are checked from the outside.
 */
describe("the web console against local mode", () => {
  let local: LocalMode;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let browser: Browser;
  const people = new Map<string, PersonBrowser>();

  beforeAll(async () => {
    database = await createPostgresDatabase();
    [local, browser] = await Promise.all([
      startLocalMode({
        // A scratch database the test can reach into (to expire a session), with its own master key.
        DATABASE_URL: database.url,
        LEASEHOLD_MASTER_KEY: randomBytes(32).toString("base64"),
      }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await local?.stop();
    await database?.close();
  });

  /** A person's own browser, signed in through the stand-in's login page on first use. */
  const as = async (person: string, path = "/"): Promise<Page> => {
    let own = people.get(person);
    if (!own) {
      own = await browserFor(browser, local.address);
      people.set(person, own);
      await signIn(own.page, person, path);
    } else {
      await own.page.goto(path);
    }
    return own.page;
  };
  const sessionRows = async (sql: string, params: unknown[]) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rowCount;
    } finally {
      await client.end();
    }
  };

  it("signs dev in through the identity provider, with a session cookie scripts cannot read", async () => {
    const dev = await browserFor(browser, local.address);
    people.set("dev", dev);
    await dev.page.goto("/");
    await screenshot(dev.page, "01-signed-out");
    await dev.page.getByRole("link", { name: "Sign in" }).click();
    await dev.page.getByRole("button", { name: /^Sign in as dev\b/ }).waitFor();
    await screenshot(dev.page, "02-identity-provider-login");
    await dev.page.getByRole("button", { name: /^Sign in as dev\b/ }).click();
    await dev.page.getByRole("heading", { level: 1, name: "My access" }).waitFor();
    await screenshot(dev.page, "03-my-access");

    const cookies = await dev.context.cookies();
    const session = cookies.find((c) => c.name === "leasehold-session");
    // Local mode serves plain HTTP on loopback, so its cookie is not Secure; everywhere else it is
    // `__Host-leasehold-session` with Secure (the API's own tests).
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/", secure: false });
    expect(await dev.page.evaluate(() => document.cookie)).not.toContain("leasehold-session");

    const page = await dev.context.request.get("/");
    const csp = page.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers()["cache-control"]).toBe("no-cache");
  });

  it("dev asks, alice and bob approve in their own browsers, dev reveals the credentials once and revokes", async () => {
    const devPage = await as("dev", "/request");
    await devPage.getByRole("heading", { level: 1, name: "Request access" }).waitFor();
    await devPage.getByLabel("Target").selectOption("sandbox-readonly");
    await devPage.getByLabel("Duration (minutes)").fill("15");
    await devPage.getByLabel("Reason").fill("e2e: reading the sandbox through the console");
    await screenshot(devPage, "04-request-access");
    await devPage.getByRole("button", { name: "Request access" }).click();
    const request = await until("dev's request", async () =>
      (await query<Request[]>(devPage.request, "requests.list", { view: "mine" })).find(
        (r) => r.reason === "e2e: reading the sandbox through the console",
      ),
    );

    for (const approver of ["alice", "bob"]) {
      const page = await as(approver, "/approvals");
      await page.getByRole("heading", { level: 1, name: "Approvals" }).waitFor();
      const item = page.getByTestId(`request-${request.id}`);
      await item.getByText("e2e: reading the sandbox through the console").waitFor();
      if (approver === "alice") await screenshot(page, "05-approvals");
      await item.getByRole("button", { name: "Approve" }).click();
      await until(`${approver}'s approval`, async () => {
        const seen = await query<Request>(page.request, "requests.get", { requestId: request.id });
        return seen.state !== "pending" || approver === "alice" ? seen : undefined;
      });
    }

    const grant = await until("the active grant", async () =>
      (await query<Grant[]>(devPage.request, "grants.list", {})).find(
        (g) => g.requestId === request.id && g.state === "active",
      ),
    );
    await devPage.goto("/");
    const card = devPage.getByTestId(`grant-${grant.id}`);
    await card.getByRole("button", { name: "Show credentials" }).click();
    await expect.poll(() => card.textContent()).toMatch(/ASIA[A-Z0-9]{12,}/);
    await screenshot(devPage, "06-credentials-shown");
    // Shown once: after a reload the page holds no credential until asked again.
    await devPage.reload();
    await card.getByRole("button", { name: "Show credentials" }).waitFor();
    expect(await devPage.content()).not.toMatch(/ASIA[A-Z0-9]{12,}/);

    await devPage.goto(`/grants/${grant.id}`);
    await devPage.getByRole("heading", { level: 1, name: "Grant" }).waitFor();
    await devPage.getByText("grant.credentials_read").first().waitFor();
    await screenshot(devPage, "07-grant-timeline");

    await devPage.goto("/");
    await card.getByLabel("Reason for revoking").fill("e2e: done");
    await card.getByRole("button", { name: "Revoke", exact: true }).click();
    await until("the revocation", async () => {
      const seen = await query<Grant>(devPage.request, "grants.get", { grantId: grant.id });
      return ["revoked", "revoking"].includes(seen.state) ? seen : undefined;
    });
  });

  it("refuses dev's approval of dev's own request in the console, saying why", async () => {
    const page = await as("dev", "/request");
    await page.getByLabel("Target").selectOption("sandbox-scratch");
    await page.getByLabel("Reason").fill("e2e: may I approve myself?");
    await page.getByRole("button", { name: "Request access" }).click();
    const own = await until("dev's second request", async () =>
      (await query<Request[]>(page.request, "requests.list", { view: "mine" })).find(
        (r) => r.reason === "e2e: may I approve myself?",
      ),
    );
    await page.goto(`/approvals?request=${own.id}`);
    await page.getByTestId(`request-${own.id}`).getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/own request/i);
    await screenshot(page, "08-self-approval-refused");
    expect((await query<Request>(page.request, "requests.get", { requestId: own.id })).state).toBe("pending");
  });

  it("asks an approver whose sign-in is older than the target's step-up to sign in again, then counts the approval", async () => {
    const devPage = await as("dev", "/request");
    await devPage.getByLabel("Target").selectOption("sandbox-sensitive");
    await devPage.getByLabel("Reason").fill("e2e: step-up");
    await devPage.getByRole("button", { name: "Request access" }).click();
    const request = await until("dev's step-up request", async () =>
      (await query<Request[]>(devPage.request, "requests.list", { view: "mine" })).find(
        (r) => r.reason === "e2e: step-up",
      ),
    );
    // alice signed in minutes ago as far as the server knows: older than sandbox-sensitive's 5 minutes.
    const alice = await as("alice", "/");
    const aged = await sessionRows(
      "UPDATE web_sessions SET auth_time = now() - interval '10 minutes' WHERE principal->>'id' = $1 AND ended_at IS NULL",
      ["alice@example.com"],
    );
    expect(aged).toBeGreaterThan(0);
    await alice.goto(`/approvals?request=${request.id}`);
    await alice.getByTestId(`request-${request.id}`).getByRole("button", { name: "Approve" }).click();
    await alice.getByRole("link", { name: "Sign in again to continue" }).waitFor();
    await screenshot(alice, "14-step-up-required");
    expect((await query<Request>(alice.request, "requests.get", { requestId: request.id })).state).toBe(
      "pending",
    );

    await alice.getByRole("link", { name: "Sign in again to continue" }).click();
    await alice.getByRole("button", { name: /^Sign in as alice\b/ }).click();
    await alice.getByTestId(`request-${request.id}`).getByRole("button", { name: "Approve" }).click();
    const approved = await until("the step-up approval", async () => {
      const seen = await query<Request>(alice.request, "requests.get", { requestId: request.id });
      return seen.state === "approved" ? seen : undefined;
    });
    expect(approved.state).toBe("approved");
  });

  it("refuses a state-changing call made with the cookie but without the CSRF token, changing nothing", async () => {
    const page = await as("dev", "/");
    const pending = (await query<Request[]>(page.request, "requests.list", { view: "mine" })).find(
      (r) => r.state === "pending",
    );
    expect(pending).toBeDefined();
    const refused = await page.request.post("/trpc/requests.cancel", {
      data: { requestId: pending?.id },
      headers: { "content-type": "application/json" },
    });
    expect(refused.status()).toBe(403);
    const still = await query<Request>(page.request, "requests.get", { requestId: pending?.id });
    expect(still.state).toBe("pending");
  });

  it("shows sec the audit trail verified, the administration pages, and the Slack side of the walkthrough", async () => {
    const page = await as("sec", "/audit");
    await page.getByRole("heading", { level: 1, name: "Audit trail" }).waitFor();
    await page
      .getByText(/verified|intact/i)
      .first()
      .waitFor();
    await screenshot(page, "09-audit-trail");
    await page.goto("/admin");
    await page.getByRole("heading", { level: 1, name: "Administration" }).waitFor();
    await screenshot(page, "10-administration");
    await page.goto("/slack");
    await page.getByRole("heading", { level: 1, name: "Slack (local)" }).waitFor();
    await page
      .getByText(/e2e: reading the sandbox through the console/)
      .first()
      .waitFor();
    await screenshot(page, "11-slack-local");
  });

  it("ends sessions: logout, an expired session and a tampered cookie all lead back to sign-in", async () => {
    const bobPage = await as("bob", "/");
    const [before] = (await bobPage.context().cookies()).filter((c) => c.name === "leasehold-session");
    await bobPage.getByRole("button", { name: "Sign out" }).click();
    await bobPage.getByRole("link", { name: "Sign in" }).waitFor();
    await screenshot(bobPage, "12-signed-out");
    // The old cookie value is worthless once the session ended server-side.
    const replay = await browserFor(browser, local.address);
    if (before) await replay.context.addCookies([{ ...before }]);
    expect((await replay.context.request.get("/auth/session")).status()).toBe(401);

    const alice = await as("alice", "/");
    const ended = await sessionRows(
      `UPDATE web_sessions SET created_at = now() - interval '9 hours', expires_at = now() - interval '1 minute'
        WHERE principal->>'id' = $1`,
      ["alice@example.com"],
    );
    expect(ended).toBeGreaterThan(0);
    await alice.reload();
    await alice.getByRole("link", { name: "Sign in" }).waitFor();
    expect((await alice.request.get("/auth/session")).status()).toBe(401);

    const devPage = await as("dev", "/");
    const [cookie] = (await devPage.context().cookies()).filter((c) => c.name === "leasehold-session");
    if (!cookie) throw new Error("dev has no session cookie");
    const tampered = await browserFor(browser, local.address);
    // One character changed: the server holds only a hash of the id, so no near-miss can match.
    const flipped = `${cookie.value[0] === "A" ? "B" : "A"}${cookie.value.slice(1)}`;
    await tampered.context.addCookies([{ ...cookie, value: flipped }]);
    await tampered.page.goto("/");
    await tampered.page.getByRole("link", { name: "Sign in" }).waitFor();
    await replay.context.close();
    await tampered.context.close();
  });

  it("signs the CLI in with the device grant, confirmed on the identity provider's page in a browser", async () => {
    const env = { LEASEHOLD_URL: local.address, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "lh-e2e-cli-")) };
    const login = runCli(env, "login", "--json");
    const prompt = await until("the CLI's sign-in prompt", async () => {
      const line = login
        .stdout()
        .split("\n")
        .find((l) => l.includes("verificationUriComplete"));
      return line ? (JSON.parse(line) as { verificationUriComplete: string; userCode: string }) : undefined;
    });
    expect(prompt.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    const device = await browserFor(browser, local.address);
    await device.page.goto(prompt.verificationUriComplete);
    await device.page.getByRole("button", { name: /^Approve as dev\b/ }).waitFor();
    await screenshot(device.page, "13-device-sign-in");
    await device.page.getByRole("button", { name: /^Approve as dev\b/ }).click();
    expect(await login.exited, login.stderr()).toBe(0);
    expect(login.stderr()).not.toMatch(/eyJ[\w-]+\.[\w-]+/);

    const whoami = runCli(env, "whoami", "--json");
    expect(await whoami.exited, whoami.stderr()).toBe(0);
    expect(JSON.parse(whoami.stdout())).toMatchObject({ id: "dev@example.com", kind: "human" });
    await device.context.close();
  });
});
