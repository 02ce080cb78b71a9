import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testClock, vaultClient, vaultFailure } from "./test-vault-client.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-vault-databases.js";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";

/**
 * The database engine against the real PostgreSQL: credentials Vault hands out log in and use their
 * grants, and stop existing when the lease ends (revoke, TTL, max TTL, or the creating token's end).
 * PostgreSQL here trusts local logins, so passwords are checked against the stored SCRAM verifier.
 */

const APP = { roleId: "pg-app-role", secretId: "pg-app-secret" };

let db: ScratchDatabase;
beforeAll(async () => {
  db = await createScratchDatabase("postgres");
});
afterAll(() => db.drop());

describe("Vault stand-in, PostgreSQL: issuing and revoking on the wall clock", () => {
  let sandbox: VaultSandbox;
  const role = () => db.roleName;
  const shortRole = () => `${db.roleName}s`;
  const killRole = () => `${db.roleName}k`;

  beforeAll(async () => {
    sandbox = await startVaultSandbox({
      databaseRoles: [
        db.role(),
        db.role({ name: shortRole(), defaultTtlSeconds: 2, maxTtlSeconds: 10 }),
        db.role({ name: killRole(), revocationStatements: db.revocationEndingSessions }),
      ],
      policies: {
        dba: [
          { path: "database/creds/*", capabilities: ["read"] },
          { path: "sys/leases/revoke", capabilities: ["update"] },
        ],
      },
      approle: [{ ...APP, policies: ["dba"] }],
    });
  });
  afterAll(async () => {
    await sandbox.revokeAllLeases();
    await sandbox.close();
  });

  const appClient = async () => {
    const login = await vaultClient(sandbox, "").approleLogin({
      role_id: APP.roleId,
      secret_id: APP.secretId,
    });
    return { vault: vaultClient(sandbox, login.auth.client_token), accessor: String(login.auth.accessor) };
  };

  it("credentials log in, can use their grant and nothing more, with the password and expiry Vault templated", async () => {
    const { vault } = await appClient();
    const creds = await vault.read(`database/creds/${role()}`);
    expect(creds).toMatchObject({ renewable: true, lease_duration: 3600 });
    expect(creds.lease_id).toMatch(new RegExp(`^database/creds/${role()}/[A-Za-z0-9]{24}$`));
    const { username, password } = creds.data;
    expect(username).toMatch(new RegExp(`^v-approle-${role()}-[A-Za-z0-9]{20}-\\d{10}$`));
    expect(await db.passwordMatches(username, password)).toBe(true);
    const validUntil = await db.validUntil(username);
    const lease = sandbox.leases().find((candidate) => candidate.id === creds.lease_id);
    // VALID UNTIL is the lease's end plus Vault's 5-second buffer, in whole seconds.
    expect(Math.abs((validUntil?.getTime() ?? 0) - ((lease?.expireTime.getTime() ?? 0) + 5000))).toBeLessThan(
      1000,
    );

    const session = await db.login(username, password);
    try {
      expect(await session.query("SELECT name FROM widgets ORDER BY id")).toEqual([
        { name: "sprocket" },
        { name: "gear" },
      ]);
      await expect(session.query("INSERT INTO widgets VALUES (3, 'cog')")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await session.close();
    }
  });

  it("revoking the lease runs the revocation statements: the role is gone and logging in fails", async () => {
    const { vault } = await appClient();
    const creds = await vault.read(`database/creds/${role()}`);
    expect(await vault.revoke({ lease_id: creds.lease_id })).toBe("");
    expect(await db.userExists(creds.data.username)).toBe(false);
    await expect(db.login(creds.data.username, creds.data.password)).rejects.toThrow(/does not exist/);
    expect(sandbox.leases().find((lease) => lease.id === creds.lease_id)).toMatchObject({
      revoked: true,
      revokedBecause: "revoke",
    });
    // Revoking again is a no-op (Vault: nothing to revoke); renewing is refused.
    expect(await vault.revoke({ lease_id: creds.lease_id })).toBe("");
    expect(await vaultFailure(vault.write("sys/leases/renew", { lease_id: creds.lease_id }))).toMatchObject({
      status: 400,
      errors: ["lease not found"],
    });
  });

  it("a lease is revoked at its TTL with no client call, within a second of the deadline", async () => {
    const { vault } = await appClient();
    const creds = await vault.read(`database/creds/${shortRole()}`);
    expect(creds.lease_duration).toBe(2);
    expect(await db.userExists(creds.data.username)).toBe(true);
    await vi.waitFor(
      () => expect(sandbox.leases().find((lease) => lease.id === creds.lease_id)?.revoked).toBe(true),
      { timeout: 4000, interval: 50 },
    );
    const lease = sandbox.leases().find((candidate) => candidate.id === creds.lease_id);
    expect(lease?.revokedBecause).toBe("expired");
    expect((lease?.revokedAt?.getTime() ?? 0) - (lease?.expireTime.getTime() ?? 0)).toBeLessThan(1000);
    expect(await db.userExists(creds.data.username)).toBe(false);
  });

  it("revoking the token that created a lease revokes the lease; another token's lease stays", async () => {
    const first = await appClient();
    const second = await appClient();
    const doomed = await first.vault.read(`database/creds/${role()}`);
    const kept = await second.vault.read(`database/creds/${role()}`);
    await vaultClient(sandbox).write("auth/token/revoke-accessor", { accessor: first.accessor });
    await sandbox.whenIdle();
    expect(await db.userExists(doomed.data.username)).toBe(false);
    expect(await db.userExists(kept.data.username)).toBe(true);
    expect(sandbox.leases().find((lease) => lease.id === doomed.lease_id)).toMatchObject({
      revoked: true,
      revokedBecause: "token-revoked",
      tokenAccessor: first.accessor,
    });
  });

  it("an open session ends when the revocation statements end it (pg_terminate_backend)", async () => {
    const { vault } = await appClient();
    const creds = await vault.read(`database/creds/${killRole()}`);
    const session = await db.login(creds.data.username, creds.data.password);
    try {
      await session.query("SELECT 1");
      await vault.revoke({ lease_id: creds.lease_id });
      await expect(session.query("SELECT 1")).rejects.toThrow();
    } finally {
      await session.close();
    }
  });

  it("lease lookup reports times and TTL", async () => {
    const { vault } = await appClient();
    const one = await vault.read(`database/creds/${role()}`);
    const lookup = await vault.write("sys/leases/lookup", { lease_id: one.lease_id });
    expect(lookup.data).toMatchObject({ id: one.lease_id, renewable: true, last_renewal: null });
    expect(lookup.data.ttl).toBeGreaterThanOrEqual(3598);
    expect(Date.parse(lookup.data.expire_time) - Date.parse(lookup.data.issue_time)).toBe(3600 * 1000);
  });

  it("an unknown role is 400; a token without the path is 403", async () => {
    const { vault } = await appClient();
    expect(await vaultFailure(vault.read("database/creds/nope"))).toMatchObject({
      status: 400,
      errors: ["unknown role: nope"],
    });
    const other = (await vaultClient(sandbox).write("auth/token/create", { policies: ["default"] })).auth;
    expect(
      await vaultFailure(vaultClient(sandbox, other.client_token).read(`database/creds/${role()}`)),
    ).toMatchObject({ status: 403 });
  });
});

describe("Vault stand-in, PostgreSQL: renewal, token expiry and a database outage on a test clock", () => {
  const clock = testClock();
  let sandbox: VaultSandbox;
  const APP_TOKEN = "sandbox-pg-app";
  const renewRole = () => `${db.roleName}r`;

  beforeAll(async () => {
    sandbox = await startVaultSandbox({
      clock: clock.now,
      databaseRoles: [db.role({ name: renewRole(), defaultTtlSeconds: 60, maxTtlSeconds: 120 })],
      policies: { app: [{ path: "database/creds/*", capabilities: ["read"] }] },
      tokens: [{ token: APP_TOKEN, policies: ["app"], ttlSeconds: 600 }],
      revocationRetryBaseSeconds: 1,
    });
  });
  afterAll(async () => {
    sandbox.failDatabase(false);
    await sandbox.revokeAllLeases();
    await sandbox.close();
  });

  it("renewal is capped at the role's max TTL from issue, moves VALID UNTIL, and the lease ends at the max", async () => {
    const vault = vaultClient(sandbox, APP_TOKEN);
    const creds = await vault.read(`database/creds/${renewRole()}`);
    const issuedAt = clock.now().getTime();
    clock.advance(30);
    const plain = await vault.write("sys/leases/renew", { lease_id: creds.lease_id });
    expect(plain).toMatchObject({
      lease_id: creds.lease_id,
      renewable: true,
      lease_duration: 60,
      warnings: null,
    });
    clock.advance(20);
    const capped = await vault.write("sys/leases/renew", { lease_id: creds.lease_id, increment: 100 });
    expect(capped.lease_duration).toBe(70);
    expect(capped.warnings).toEqual([
      'TTL of "1m40s" exceeded the effective max_ttl of "1m10s"; TTL value is capped accordingly',
    ]);
    expect((await db.validUntil(creds.data.username))?.getTime()).toBe(issuedAt + (50 + 70 + 5) * 1000);
    const lookup = await vault.write("sys/leases/lookup", { lease_id: creds.lease_id });
    expect(lookup.data.last_renewal).toBe(new Date(issuedAt + 50_000).toISOString());

    clock.advance(70);
    await vi.waitFor(async () => expect(await db.userExists(creds.data.username)).toBe(false), {
      timeout: 2000,
    });
    expect(await vaultFailure(vault.write("sys/leases/renew", { lease_id: creds.lease_id }))).toMatchObject({
      status: 400,
      errors: ["lease not found"],
    });
  });

  it("a lease outlives its token on paper (lease_duration is not capped) but is revoked when the token expires", async () => {
    const token = (await vaultClient(sandbox).write("auth/token/create", { policies: ["app"], ttl: "30s" }))
      .auth;
    const creds = await vaultClient(sandbox, token.client_token).read(`database/creds/${renewRole()}`);
    expect(creds.lease_duration).toBe(60);
    clock.advance(31);
    await vi.waitFor(async () => expect(await db.userExists(creds.data.username)).toBe(false), {
      timeout: 2000,
    });
    expect(sandbox.leases().find((lease) => lease.id === creds.lease_id)?.revokedBecause).toBe(
      "token-revoked",
    );
  });

  it("nothing expires while sealed (the expiration manager is stopped); an overdue lease goes once unsealed", async () => {
    const creds = await vaultClient(sandbox, APP_TOKEN).read(`database/creds/${renewRole()}`);
    sandbox.setMode("sealed");
    clock.advance(61);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await db.userExists(creds.data.username)).toBe(true);
    sandbox.setMode("active");
    await vi.waitFor(async () => expect(await db.userExists(creds.data.username)).toBe(false), {
      timeout: 2000,
    });
  });

  it("with the database down: issuing is a 500, revoking a 400, and expiry retries until the database is back", async () => {
    const vault = vaultClient(sandbox, APP_TOKEN);
    sandbox.failDatabase(true);
    const refused = await vaultFailure(vault.read(`database/creds/${renewRole()}`));
    expect(refused.status).toBe(500);
    expect(String(refused.errors)).toMatch(
      /^1 error occurred:\n\t\* failed to execute query: .*connection refused/,
    );

    sandbox.failDatabase(false);
    const creds = await vault.read(`database/creds/${renewRole()}`);
    sandbox.failDatabase(true);
    const root = vaultClient(sandbox);
    const failed = await vaultFailure(root.revoke({ lease_id: creds.lease_id }));
    expect(failed.status).toBe(400);
    expect(String(failed.errors)).toMatch(/^failed to revoke entry: .*connection refused/);

    clock.advance(61);
    await vi.waitFor(() => expect(sandbox.leases().at(-1)?.revokeAttempts).toBe(1), { timeout: 2000 });
    expect(await db.userExists(creds.data.username)).toBe(true);
    sandbox.failDatabase(false);
    clock.advance(2); // first retry after 2^1 × 1 s
    await vi.waitFor(async () => expect(await db.userExists(creds.data.username)).toBe(false), {
      timeout: 2000,
    });
    expect(sandbox.leases().at(-1)).toMatchObject({
      revoked: true,
      revokedBecause: "expired",
      revokeAttempts: 1,
    });
  });
});
