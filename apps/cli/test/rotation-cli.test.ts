import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { AppRouter } from "@leasehold/api/router";
import {
  type AwsSandbox,
  type OidcIssuer,
  startAwsSandbox,
  startOidcIssuer,
  startVaultSandbox,
  type VaultSandbox,
} from "@leasehold/sandbox";
import { eventually, type Stack, startStack, tokenFor } from "@leasehold/test-kit";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `leasehold rotations` as a real process against the real API and worker (processes too), with a
 * MariaDB user's password held in the Vault stand-in's KV: list, dry-run, run and read the runs as
 * an admin; refused to others; bad ids refused before any call.
 */
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = ["--conditions=@leasehold/source", "--import", "tsx", "apps/cli/src/main.ts"];
const MYSQL = { host: "127.0.0.1", port: 3306, user: "root" };

type Result = { code: number | null; stdout: string; stderr: string };

// Yearly: only the runs the test starts happen.
const configFor = (username: string) => `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
rotations:
  - id: orders-cli
    description: the orders app's password
    secret: { vaultKv: { path: orders/cli } }
    database: { engine: mysql, adminUrlEnv: ORDERS_ADMIN_URL, username: ${username} }
    schedule: { cron: "0 0 1 1 *" }
  # Its secret names another user: a dry run finds it.
  - id: orders-misnamed
    secret: { vaultKv: { path: orders/misnamed } }
    database: { engine: mysql, adminUrlEnv: ORDERS_ADMIN_URL, username: ${username} }
    schedule: { cron: "0 0 1 1 *" }
`;

// Each case starts the CLI as a process a few times (1–2 s each on two busy cores).
describe("leasehold rotations against the API", { timeout: 60_000 }, () => {
  const username = `rotcli_${randomBytes(4).toString("hex")}`;
  let aws: AwsSandbox;
  let issuer: OidcIssuer;
  let vault: VaultSandbox;
  let stack: Stack<AppRouter>;
  const tokens = { sec: "", dev: "" };

  beforeAll(async () => {
    const initial = randomBytes(12).toString("hex");
    const root = await mysql.createConnection(MYSQL);
    await root.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${initial}'`);
    await root.end();
    aws = await startAwsSandbox({ roles: [] });
    issuer = await startOidcIssuer();
    vault = await startVaultSandbox();
    for (const [path, user] of [
      ["orders/cli", username],
      ["orders/misnamed", "someone_else"],
    ]) {
      await fetch(`${vault.url}/v1/secret/data/${path}`, {
        method: "POST",
        headers: { "X-Vault-Token": vault.rootToken, "content-type": "application/json" },
        body: JSON.stringify({ data: { username: user, password: initial } }),
      });
    }
    stack = await startStack<AppRouter>({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: configFor(username),
      env: {
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: vault.rootToken,
        ORDERS_ADMIN_URL: "mysql://root@127.0.0.1:3306",
      },
    });
    tokens.sec = await tokenFor(issuer, "sec");
    tokens.dev = await tokenFor(issuer, "dev");
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([vault?.close(), issuer?.close(), aws?.close()]);
    const root = await mysql.createConnection(MYSQL);
    await root.query(`DROP USER IF EXISTS '${username}'@'%'`);
    await root.end();
  });

  const run = (who: keyof typeof tokens, ...args: string[]) =>
    new Promise<Result>((resolve) => {
      const child = spawn(process.execPath, [...CLI, ...args], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          LEASEHOLD_URL: stack.apiUrl,
          LEASEHOLD_TOKEN: tokens[who],
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c) => {
        stdout += c;
      });
      child.stderr.on("data", (c) => {
        stderr += c;
      });
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
  const ok = async (who: keyof typeof tokens, ...args: string[]) => {
    const result = await run(who, ...args);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    return result.stdout;
  };

  it("lists the configured rotations as text and as JSON", async () => {
    expect(await ok("sec", "rotations", "list")).toBe(
      'orders-cli  vaultKv  "0 0 1 1 *"  never run\norders-misnamed  vaultKv  "0 0 1 1 *"  never run\n',
    );
    expect(JSON.parse(await ok("sec", "rotations", "list", "--json"))).toEqual([
      {
        id: "orders-cli",
        kind: "vaultKv",
        schedule: { cron: "0 0 1 1 *", jitterSeconds: 0 },
        targetDescription: "the orders app's password",
        lastRun: null,
      },
      expect.objectContaining({ id: "orders-misnamed", lastRun: null }),
    ]);
  });

  it("dry-runs a rotation without changing it, and names one that does not exist", async () => {
    const text = await ok("sec", "rotations", "dry-run", "orders-cli");
    expect(text).toBe(
      [
        "secret version 1",
        "ok    the secret names the rotated user",
        "ok    the current password logs in",
        "rotation orders-cli can run: create → set → test → finish",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(await ok("sec", "rotations", "dry-run", "orders-cli", "--json"))).toMatchObject({
      rotationId: "orders-cli",
      ok: true,
      secretVersion: "1",
    });
    expect(vault.kv("orders/cli")).toHaveLength(1);
    // A check that fails is a finding: exit 1, with what failed.
    const misnamed = await run("sec", "rotations", "dry-run", "orders-misnamed");
    expect(misnamed).toMatchObject({ code: 1 });
    expect(misnamed.stdout).toMatch(/^FAIL {2}the secret names the rotated user \(it names someone_else\)$/m);
    expect(misnamed.stdout).toContain("rotation orders-misnamed would fail; fix the above first");
    expect(await run("sec", "rotations", "dry-run", "no-such-rotation")).toMatchObject({
      code: 5,
      stderr: "leasehold: there is no rotation called no-such-rotation\n",
    });
  });

  it("refuses people who are not admins", async () => {
    for (const args of [["list"], ["dry-run", "orders-cli"], ["run", "orders-cli"], ["runs", "orders-cli"]]) {
      const refused = await run("dev", "rotations", ...args);
      expect(refused, args.join(" ")).toMatchObject({
        code: 4,
        stderr: expect.stringMatching(/only admins may/),
      });
    }
    expect(await run("sec", "rotations", "runs", "orders-cli", "--json")).toMatchObject({
      code: 0,
      stdout: "[]\n",
    });
  });

  it("refuses a bad id or limit before calling the API", async () => {
    expect(await run("sec", "rotations", "run", "Orders CLI!")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/"Orders CLI!" is not a rotation id/),
    });
    for (const limit of ["0", "101", "ten", "1.5"]) {
      expect(await run("sec", "rotations", "runs", "orders-cli", "--limit", limit)).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/--limit takes a whole number from 1 to 100/),
      });
    }
    expect(await run("sec", "rotations", "rerun", "orders-cli")).toMatchObject({ code: 2 });
    expect(await run("sec", "rotations", "run")).toMatchObject({ code: 2 });
    // Nothing was started by any of them.
    expect(await stack.db.query("SELECT id FROM rotation_runs")).toEqual([]);
  });

  it("starts a run, which the worker carries out, and shows its runs", async () => {
    const started = JSON.parse(await ok("sec", "rotations", "run", "orders-cli", "--json"));
    expect(started).toMatchObject({ rotationId: "orders-cli", triggeredBy: "sec@example.com" });
    await eventually(
      async () =>
        (
          await stack.db.query<{ state: string }>("SELECT state FROM rotation_runs WHERE id = $1", [
            started.id,
          ])
        )[0]?.state === "succeeded"
          ? true
          : undefined,
      20_000,
      "the run to succeed",
    );
    const runs = JSON.parse(await ok("sec", "rotations", "runs", "orders-cli", "--limit", "5", "--json"));
    expect(runs).toEqual([
      expect.objectContaining({ id: started.id, state: "succeeded", step: "done", lastError: null }),
    ]);
    expect(await ok("sec", "rotations", "runs", "orders-cli")).toMatch(
      new RegExp(`^\\S+ {2}${started.id} {2}succeeded {2}\\(1 attempt, by sec@example.com\\)\\n$`),
    );
    expect(await ok("sec", "rotations", "list")).toMatch(
      /^orders-cli {2}vaultKv {2}"0 0 1 1 \*" {2}last run succeeded /,
    );
    expect(vault.kv("orders/cli")).toHaveLength(2);
  });
});
