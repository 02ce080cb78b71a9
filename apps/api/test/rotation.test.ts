import { randomBytes } from "node:crypto";
import {
  type AwsSandbox,
  type OidcIssuer,
  startAwsSandbox,
  startOidcIssuer,
  startVaultSandbox,
  type VaultSandbox,
} from "@leasehold/sandbox";
import { queueBackends, ROLE_ARN, tokenFor } from "@leasehold/test-kit";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * Scheduled rotation with two worker processes, on each queue backend: each tick of the schedule runs
 * once, every run rotates the MariaDB password held in Vault KV, and an admin can check and start a
 * rotation through the API.
 */
const MYSQL = { host: "127.0.0.1", port: 3306, user: "root" };

const configFor = (username: string) => `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
rotations:
  - id: orders-app
    secret: { vaultKv: { path: orders/app } }
    database: { engine: mysql, adminUrlEnv: ORDERS_ADMIN_URL, username: ${username} }
    schedule: { cron: "*/3 * * * * *" }
  # Checked and started by hand only (its schedule is yearly): a dry run of orders-app can land between
  # a scheduled run's set and finish steps, when the current password rightly does not log in.
  - id: orders-manual
    secret: { vaultKv: { path: orders/manual } }
    database: { engine: mysql, adminUrlEnv: ORDERS_ADMIN_URL, username: ${username}m }
    schedule: { cron: "0 0 1 1 *" }
`;

const logsIn = async (username: string, password: string) => {
  try {
    await (await mysql.createConnection({ ...MYSQL, user: username, password })).end();
    return true;
  } catch {
    return false;
  }
};

describe.each(queueBackends)("scheduled rotation with two workers, queues on %s", (queueBackend) => {
  const username = `rot_${randomBytes(4).toString("hex")}`;
  let aws: AwsSandbox;
  let issuer: OidcIssuer;
  let vault: VaultSandbox;
  let stack: Stack;

  beforeAll(async () => {
    const initial = randomBytes(12).toString("hex");
    const root = await mysql.createConnection(MYSQL);
    await root.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${initial}'`);
    await root.query(`CREATE USER '${username}m'@'%' IDENTIFIED BY '${initial}'`);
    await root.end();
    aws = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
    issuer = await startOidcIssuer();
    vault = await startVaultSandbox();
    for (const [path, user] of [
      ["orders/app", username],
      ["orders/manual", `${username}m`],
    ]) {
      await fetch(`${vault.url}/v1/secret/data/${path}`, {
        method: "POST",
        headers: { "X-Vault-Token": vault.rootToken, "content-type": "application/json" },
        body: JSON.stringify({ data: { username: user, password: initial } }),
      });
    }
    stack = await startStack({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: configFor(username),
      workers: 2,
      queueBackend,
      env: {
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: vault.rootToken,
        ORDERS_ADMIN_URL: "mysql://root@127.0.0.1:3306",
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([vault?.close(), issuer?.close(), aws?.close()]);
    const root = await mysql.createConnection(MYSQL);
    await root.query(`DROP USER IF EXISTS '${username}'@'%', '${username}m'@'%'`);
    await root.end();
  });

  const runs = () =>
    stack.db.query<{ trigger_key: string; state: string; started_at: Date }>(
      "SELECT trigger_key, state, started_at FROM rotation_runs WHERE triggered_by = 'system:schedule' ORDER BY started_at",
    );

  it("fires once per tick, and every run leaves a current version that logs in", async () => {
    await eventually(
      async () => ((await runs()).length >= 4 ? true : undefined),
      30_000,
      "four scheduled runs",
    );
    const seen = await runs();
    // Ticks are three seconds apart: two workers must not have turned one tick into two runs.
    for (const [i, run] of seen.entries()) {
      if (i === 0) continue;
      const gap = run.started_at.getTime() - (seen[i - 1]?.started_at.getTime() ?? 0);
      expect(gap).toBeGreaterThan(2000);
    }
    expect(new Set(seen.map((r) => r.trigger_key)).size).toBe(seen.length);
    await eventually(
      async () => ((await runs()).slice(0, 4).every((r) => r.state === "succeeded") ? true : undefined),
      20_000,
      "the runs to succeed",
    );
    const versions = vault.kv("orders/app");
    expect(versions.length).toBeGreaterThanOrEqual(5);
    const latest = versions.at(-1)?.data as { password: string };
    const first = versions[0]?.data as { password: string };
    expect(await logsIn(username, latest.password)).toBe(true);
    expect(await logsIn(username, first.password)).toBe(false);
  }, 60_000);

  it("an admin can check a rotation and start one; others cannot", async () => {
    const sec = stack.client(await tokenFor(issuer, "sec"));
    const dev = stack.client(await tokenFor(issuer, "dev"));
    await expect(dev.rotations.dryRun.mutate({ rotationId: "orders-manual" })).rejects.toThrow(/only admins/);
    expect(await sec.rotations.dryRun.mutate({ rotationId: "orders-manual" })).toMatchObject({ ok: true });
    await expect(sec.rotations.run.mutate({ rotationId: "Orders App!" })).rejects.toThrow(/invalid input/);
    await expect(sec.rotations.run.mutate({ rotationId: "unknown-rotation" })).rejects.toThrow(
      /no rotation called/,
    );
    const run = await sec.rotations.run.mutate({ rotationId: "orders-manual" });
    await eventually(
      async () => {
        const [latest] = (await sec.rotations.runs.query({ rotationId: "orders-manual", limit: 50 })).filter(
          (r) => r.id === run.id,
        );
        return latest?.state === "succeeded" ? latest : undefined;
      },
      20_000,
      "the manual run",
    );
  }, 40_000);
});
