import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDatabasePasswords } from "../rotation/database-password.js";
import { rotatedRole } from "../rotation/role-password.js";
import { isScramSha256Verifier, mysqlNativePasswordHash, scramSha256Verifier } from "./password-verifier.js";
import { openPostgresAdmin } from "./postgres-admin.js";
import { adminUrlSecrets, parseAdminUrl } from "./sql-admin-pool.js";
import { sqlRoleName } from "./sql-credentials.js";
import { createSqlProvider, type SqlProvider } from "./sql-provider.js";
import { sqlTargetSchema } from "./sql-schemas.js";
import { grantFor } from "./test-grant.js";

/** pg's own SCRAM client: what every `pg` connection runs against a scram-sha-256 server (untyped). */
type ScramSession = { clientNonce: string; response: string };
const sasl = createRequire(import.meta.url)("pg/lib/crypto/sasl.js") as {
  startSession(mechanisms: string[]): ScramSession;
  continueSession(session: ScramSession, password: string, serverFirst: string): Promise<void>;
  finalizeSession(session: ScramSession, serverFinal: string): void;
};

/** Generous: the machine is shared, and the lease hashes before it reaches the statement. */
const WAIT = { timeout: 15_000, interval: 20 };

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();

/**
 * A SCRAM-SHA-256 exchange between pg's client code, holding `password`, and PostgreSQL's server side
 * (auth-scram.c verify_client_proof, verify_final_nonce aside) holding only the stored `verifier`. The
 * local server trusts 127.0.0.1 (it never asks for a password), so this is how a test proves that a
 * client with the password would be let in by a server that asks.
 */
async function scramLoginSucceeds(verifier: string, password: string): Promise<boolean> {
  const [, counts, keys] = verifier.split("$") as [string, string, string];
  const [iterations, salt] = counts.split(":") as [string, string];
  const [storedKey, serverKey] = keys.split(":").map((k) => Buffer.from(k, "base64")) as [Buffer, Buffer];
  const session = sasl.startSession(["SCRAM-SHA-256"]);
  const clientFirstBare = session.response.slice("n,,".length);
  const nonce = `${session.clientNonce}${randomBytes(18).toString("base64")}`;
  const serverFirst = `r=${nonce},s=${salt},i=${iterations}`;
  await sasl.continueSession(session, password, serverFirst);
  const [withoutProof, proof] = session.response.split(",p=") as [string, string];
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const clientKey = Buffer.from(proof, "base64").map((byte, i) => byte ^ (signature[i] ?? 0));
  const recovered = createHash("sha256").update(clientKey).digest();
  if (!timingSafeEqual(recovered, storedKey)) return false;
  // And the client accepts the server's signature, made with ServerKey.
  sasl.finalizeSession(session, `v=${hmac(serverKey, authMessage).toString("base64")}`);
  return true;
}

describe("PostgreSQL stores Leasehold's SCRAM verifier as it is", () => {
  let scratch: SqlScratch;
  let provider: SqlProvider;
  beforeAll(async () => {
    scratch = await createSqlScratch("postgres");
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
  });
  afterAll(async () => {
    await provider?.close?.();
    await scratch?.drop();
  });

  const rolpassword = async (name: string) =>
    String(
      (await scratch.superuser("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [name]))[0]
        ?.rolpassword,
    );

  it("a role created with a verifier has exactly that verifier, and the password (only) logs in", async () => {
    const admin = openPostgresAdmin({
      adminUrl: scratch.adminUrl,
      location: parseAdminUrl("postgres", scratch.adminUrl),
      secrets: adminUrlSecrets(scratch.adminUrl),
      maxConnections: 1,
    });
    try {
      expect(await admin.passwordForm()).toEqual({ kind: "scram-sha-256", iterations: 4096 });
      const name = sqlRoleName(scratch.grantId(), 1);
      const verifier = await scramSha256Verifier("pencil-and-paper");
      await admin.run([`CREATE ROLE "${name}" LOGIN PASSWORD '${verifier}'`]);
      expect(await rolpassword(name)).toBe(verifier);
      expect(await scramLoginSucceeds(verifier, "pencil-and-paper")).toBe(true);
      expect(await scramLoginSucceeds(verifier, "pencil-and-papeR")).toBe(false);
      const session = await scratch.login(
        `postgresql://${name}:pencil-and-paper@127.0.0.1:5432/${scratch.database}`,
      );
      await session.close();
    } finally {
      await admin.close();
    }
  });

  it("a lease's role holds a 4096-iteration verifier of the lease's password", async () => {
    const target = sqlTargetSchema.parse(scratch.targetConfig());
    const issued = await provider.issue({
      grant: grantFor(scratch.grantId()),
      target,
      approval: null,
      checkpoint: async () => undefined,
    });
    const stored = await rolpassword(issued.secret.username ?? "");
    expect(isScramSha256Verifier(stored)).toBe(true);
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(await scramLoginSucceeds(stored, issued.secret.password ?? "")).toBe(true);
  });

  it("the CREATE ROLE the server receives carries that verifier, not the password", async () => {
    const target = sqlTargetSchema.parse(scratch.targetConfig());
    const grant = grantFor(scratch.grantId());
    const name = sqlRoleName(grant.id, 1);
    let issued: Awaited<ReturnType<typeof provider.issue>> | undefined;
    const seen = await statementWhileLocked(scratch, "CREATE ROLE", name, async () => {
      issued = await provider.issue({ grant, target, approval: null, checkpoint: async () => undefined });
    });
    expect(seen).not.toContain(issued?.secret.password ?? "?");
    expect(seen).toContain(`PASSWORD '${await rolpassword(name)}'`);
  });
});

describe("a rotation's ALTER ROLE sends the verifier too", () => {
  let scratch: SqlScratch;
  beforeAll(async () => {
    scratch = await createSqlScratch("postgres");
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  it("the rotated role holds a verifier of the new password", async () => {
    const username = sqlRoleName(scratch.grantId(), 1);
    await scratch.superuser(`CREATE ROLE "${username}" LOGIN`);
    const passwords = createDatabasePasswords();
    try {
      const role = rotatedRole(passwords, {
        engine: "postgres",
        adminUrl: scratch.adminUrl,
        username,
        passwordLength: 32,
      });
      const { password = "" } = await role.next({ username, password: "unused-before" }, "run-1");
      await role.set({ username, password });
      const [row] = await scratch.superuser("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [
        username,
      ]);
      const stored = String(row?.rolpassword);
      expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(await scramLoginSucceeds(stored, password)).toBe(true);
    } finally {
      await passwords.close();
    }
  });

  it("the ALTER ROLE the server receives carries the verifier, not the password", async () => {
    const username = sqlRoleName(scratch.grantId(), 2);
    await scratch.superuser(`CREATE ROLE "${username}" LOGIN`);
    const passwords = createDatabasePasswords();
    try {
      const role = rotatedRole(passwords, {
        engine: "postgres",
        adminUrl: scratch.adminUrl,
        username,
        passwordLength: 32,
      });
      const next = await role.next({ username, password: "unused-before" }, "run-1");
      // The password form is read before the lock is held, so only the ALTER ROLE waits on it.
      await role.set(next);
      const seen = await statementWhileLocked(scratch, "ALTER ROLE", username, () => role.set(next));
      expect(seen).not.toContain(next.password ?? "?");
      const [row] = await scratch.superuser("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [
        username,
      ]);
      expect(seen).toContain(`PASSWORD '${String(row?.rolpassword)}'`);
    } finally {
      await passwords.close();
    }
  });
});

/**
 * The text of the `verb` statement naming `name` that `send` makes, as the server received it (what a
 * statement log would hold): holding pg_authid makes it wait, so pg_stat_activity shows it.
 */
async function statementWhileLocked(
  scratch: SqlScratch,
  verb: "CREATE ROLE" | "ALTER ROLE",
  name: string,
  send: () => Promise<unknown>,
): Promise<string> {
  const holder = new pg.Client({
    connectionString: `postgres://postgres@127.0.0.1:5432/${scratch.database}`,
  });
  await holder.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE pg_authid IN SHARE MODE");
    const sent = send();
    let seen = "";
    await vi.waitFor(async () => {
      // From another session: inside the holder's transaction pg_stat_activity is a snapshot.
      const rows = await scratch.superuser(
        "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 AND strpos(query, $2) > 0",
        [`${verb}%`, name],
      );
      seen = String(rows[0]?.query ?? "");
      expect(seen).toContain(name);
    }, WAIT);
    await holder.query("ROLLBACK");
    await sent;
    return seen;
  } finally {
    await holder.end();
  }
}

describe("MariaDB stores Leasehold's mysql_native_password hash", () => {
  let scratch: SqlScratch;
  let provider: SqlProvider;
  beforeAll(async () => {
    scratch = await createSqlScratch("mysql");
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
  });
  afterAll(async () => {
    await provider?.close?.();
    await scratch?.drop();
  });

  it("a lease's user has the hash of the lease's password, and logs in with it (only)", async () => {
    const target = sqlTargetSchema.parse(scratch.targetConfig());
    const issued = await provider.issue({
      grant: grantFor(scratch.grantId()),
      target,
      approval: null,
      checkpoint: async () => undefined,
    });
    const name = issued.secret.username ?? "";
    const password = issued.secret.password ?? "";
    const [user] = await scratch.superuser(
      "SELECT plugin, authentication_string FROM mysql.user WHERE User = ?",
      [name],
    );
    expect(user).toEqual({
      plugin: "mysql_native_password",
      authentication_string: mysqlNativePasswordHash(password),
    });
    expect(await scratch.passwordMatches(name, password)).toBe(true);
    expect(await scratch.passwordMatches(name, `${password.slice(1)}x`)).toBe(false);
  });

  it("the CREATE USER the server receives carries the hash, not the password", async () => {
    // Holding the grant tables makes the lease's CREATE USER wait, so its text can be read from the process list.
    const locker = await mysql.createConnection("mysql://root@127.0.0.1:3306");
    let seen = "";
    try {
      const grant = grantFor(scratch.grantId());
      const name = sqlRoleName(grant.id, 1);
      await locker.query("LOCK TABLES mysql.global_priv WRITE");
      const leasing = provider.issue({
        grant,
        target: sqlTargetSchema.parse(scratch.targetConfig()),
        approval: null,
        checkpoint: async () => undefined,
      });
      await vi.waitFor(async () => {
        const [rows] = await locker.query<mysql.RowDataPacket[]>(
          "SELECT INFO AS info FROM information_schema.PROCESSLIST WHERE INFO LIKE 'CREATE USER%' AND INSTR(INFO, ?) > 0",
          [name],
        );
        seen = String(rows[0]?.info ?? "");
        expect(seen).toContain(name);
      }, WAIT);
      await locker.query("UNLOCK TABLES");
      const issued = await leasing;
      expect(seen).not.toContain(issued.secret.password ?? "?");
      expect(seen).toContain(
        `IDENTIFIED BY PASSWORD '${mysqlNativePasswordHash(issued.secret.password ?? "")}'`,
      );
    } finally {
      await locker.end();
    }
  });
});
