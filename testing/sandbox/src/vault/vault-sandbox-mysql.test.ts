import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vaultClient, vaultFailure } from "./test-vault-client.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-vault-databases.js";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";

/**
 * The database engine against the real MariaDB, which checks passwords (unlike the local PostgreSQL)
 * and, unlike PostgreSQL, lets an open session outlive DROP USER: the revocation statements decide.
 */

const APP = { roleId: "my-app-role", secretId: "my-app-secret" };

describe("Vault stand-in, MariaDB", () => {
  let db: ScratchDatabase;
  let sandbox: VaultSandbox;
  const role = () => db.roleName;
  const killRole = () => `${db.roleName}k`;
  const deviceRole = () => `${db.roleName}d`;

  beforeAll(async () => {
    db = await createScratchDatabase("mysql");
    sandbox = await startVaultSandbox({
      databaseRoles: [
        db.role(),
        db.role({ name: killRole(), revocationStatements: db.revocationEndingSessions }),
        db.role({ name: deviceRole(), terminateSessionsOnRevoke: true }),
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
    await sandbox?.revokeAllLeases();
    await sandbox?.close();
    await db?.drop();
  });

  const appClient = async () => {
    const login = await vaultClient(sandbox, "").approleLogin({
      role_id: APP.roleId,
      secret_id: APP.secretId,
    });
    return vaultClient(sandbox, login.auth.client_token);
  };

  it("credentials log in with their password (and no other), within 32 characters, and can use their grant only", async () => {
    const vault = await appClient();
    const creds = await vault.read(`database/creds/${role()}`);
    const { username, password } = creds.data;
    expect(username).toMatch(new RegExp(`^v-approle-${role()}-[A-Za-z0-9]{13}$`));
    expect(username).toHaveLength(32);
    expect(await db.passwordMatches(username, "not-the-password")).toBe(false);
    const session = await db.login(username, password);
    try {
      expect(await session.query("SELECT name FROM widgets ORDER BY id")).toEqual([
        { name: "sprocket" },
        { name: "gear" },
      ]);
      await expect(session.query("INSERT INTO widgets VALUES (3, 'cog')")).rejects.toThrow(/denied/);
    } finally {
      await session.close();
    }
  });

  it("revoking the lease drops the user: logging in fails", async () => {
    const vault = await appClient();
    const creds = await vault.read(`database/creds/${role()}`);
    await vault.revoke({ lease_id: creds.lease_id });
    expect(await db.userExists(creds.data.username)).toBe(false);
    await expect(db.login(creds.data.username, creds.data.password)).rejects.toThrow(/Access denied/);
  });

  it("an open session survives DROP USER (only its grants go), as with Vault's defaults; KILL USER ends it", async () => {
    const vault = await appClient();
    const plain = await vault.read(`database/creds/${role()}`);
    const careful = await vault.read(`database/creds/${killRole()}`);
    const plainSession = await db.login(plain.data.username, plain.data.password);
    const carefulSession = await db.login(careful.data.username, careful.data.password);
    try {
      await vault.revoke({ lease_id: plain.lease_id });
      await vault.revoke({ lease_id: careful.lease_id });
      expect(await db.userExists(plain.data.username)).toBe(false);
      expect(await plainSession.query("SELECT CURRENT_USER() AS who")).toEqual([
        { who: `${plain.data.username}@%` },
      ]);
      await expect(plainSession.query("SELECT COUNT(*) FROM widgets")).rejects.toThrow(
        /SELECT command denied/,
      );
      await expect(carefulSession.query("SELECT 1")).rejects.toThrow();
    } finally {
      await plainSession.close();
      await carefulSession.close();
    }
  });

  it("the terminateSessionsOnRevoke test device ends sessions even when the statements do not", async () => {
    const vault = await appClient();
    const creds = await vault.read(`database/creds/${deviceRole()}`);
    const session = await db.login(creds.data.username, creds.data.password);
    try {
      await vault.revoke({ lease_id: creds.lease_id });
      await expect(session.query("SELECT 1")).rejects.toThrow();
    } finally {
      await session.close();
    }
  });

  it("revoke-self of the creating token revokes its leases in the background", async () => {
    const vault = await appClient();
    const creds = await vault.read(`database/creds/${role()}`);
    await vault.tokenRevokeSelf();
    await sandbox.whenIdle();
    expect(await db.userExists(creds.data.username)).toBe(false);
    expect(await vaultFailure(vault.read(`database/creds/${role()}`))).toMatchObject({ status: 403 });
  });
});
