import { UpstreamError } from "@leasehold/domain";
import mysql from "mysql2/promise";
import pg from "pg";
import { openMysqlAdmin } from "../sql-native/mysql-admin.js";
import { openPostgresAdmin } from "../sql-native/postgres-admin.js";
import type { SqlAdmin } from "../sql-native/sql-admin.js";
import { adminUrlSecrets, parseAdminUrl } from "../sql-native/sql-admin-pool.js";
import { generateSqlPassword, type SqlLocation } from "../sql-native/sql-credentials.js";
import { sqlUpstreamError } from "../sql-native/sql-errors.js";
import type { SqlEngine } from "../sql-native/sql-schemas.js";
import { passwordForTemplates } from "../sql-native/sql-stored-password.js";
import { mysqlCloneGrants, postgresCloneStatement } from "./user-clone.js";

/** The database role whose password a rotation changes. */
export type RotatedDatabase = {
  readonly engine: SqlEngine;
  readonly adminUrl: string;
  /** Validated by the rotation schema: `[a-z_][a-z0-9_]{0,31}`. */
  readonly username: string;
};

const SAFE_USERNAME = /^[a-z_][a-z0-9_]{0,31}$/;
const SAFE_PASSWORD = /^[A-Za-z0-9]{16,128}$/;

/**
 * Sets and tests database passwords for rotations, through the same admin connections as the SQL
 * provider (one pool per admin URL). Usernames and passwords are checked against their safe alphabets
 * before they reach a statement, and no error carries a password.
 */
export function createDatabasePasswords() {
  const admins = new Map<string, SqlAdmin>();
  const adminFor = (db: RotatedDatabase): SqlAdmin => {
    const key = `${db.engine} ${db.adminUrl}`;
    let admin = admins.get(key);
    if (!admin) {
      const connection = {
        adminUrl: db.adminUrl,
        location: parseAdminUrl(db.engine, db.adminUrl),
        secrets: adminUrlSecrets(db.adminUrl),
        maxConnections: 2,
      };
      admin = db.engine === "postgres" ? openPostgresAdmin(connection) : openMysqlAdmin(connection);
      admins.set(key, admin);
    }
    return admin;
  };
  const assertSafe = (usernames: readonly string[], password?: string) => {
    const safeNames = usernames.every((name) => SAFE_USERNAME.test(name));
    if (!safeNames || (password !== undefined && !SAFE_PASSWORD.test(password))) {
      throw new UpstreamError("refusing to build a statement from an unexpected username or password", {
        retryable: false,
      });
    }
  };
  const context = (db: RotatedDatabase, admin: SqlAdmin, password?: string) => ({
    targetId: `rotation of ${db.username}`,
    engine: db.engine,
    secrets: password === undefined ? [...admin.secrets] : [...admin.secrets, password],
  });

  const passwords = {
    /** Gives the role this password (the rotation's "setSecret" step). Idempotent. */
    async set(db: RotatedDatabase, password: string): Promise<void> {
      assertSafe([db.username], password);
      const admin = adminFor(db);
      const secrets = context(db, admin, password);
      try {
        await admin.run([await passwordStatement(admin, alterPassword(db), password, secrets.secrets)]);
      } catch (error) {
        throw sqlUpstreamError(error, "setting the new password", secrets);
      }
    },

    /** Logs in as the role with this password (the rotation's "testSecret" step). */
    async test(db: RotatedDatabase, password: string): Promise<void> {
      assertSafe([db.username], password);
      const admin = adminFor(db);
      try {
        await logIn(db.engine, admin.location, db.username, password);
      } catch (error) {
        throw sqlUpstreamError(error, "logging in with the new password", context(db, admin, password));
      }
    },

    /** Whether the user exists (an admin query: no login, no password needed). */
    async exists(db: RotatedDatabase): Promise<boolean> {
      assertSafe([db.username]);
      const admin = adminFor(db);
      try {
        return (await admin.select(USER_EXISTS[db.engine], [db.username])).length > 0;
      } catch (error) {
        throw sqlUpstreamError(error, `looking up the user ${db.username}`, context(db, admin));
      }
    },

    /**
     * Makes `to` a login user holding what `db.username` holds, unless it exists already; idempotent.
     * PostgreSQL: `to` is created as a member of `db.username` (INHERIT), or made one if it exists.
     * MariaDB: `to`@'%' is created with a random password no one keeps, then given every grant
     * `SHOW GRANTS FOR` lists for `db.username`@'%' (which needs SELECT on the mysql database).
     */
    async clone(db: RotatedDatabase, to: string): Promise<void> {
      assertSafe([db.username, to]);
      const admin = adminFor(db);
      const secrets = context(db, admin);
      try {
        await admin.run(await cloneStatements(admin, db.username, to, secrets.secrets));
      } catch (error) {
        throw sqlUpstreamError(error, `creating ${to} as a clone of ${db.username}`, secrets);
      }
    },

    async close(): Promise<void> {
      const open = [...admins.values()];
      admins.clear();
      await Promise.all(open.map((admin) => admin.close()));
    },
  };
  return passwords;
}

/** Logs in as `username` and runs `SELECT 1`. */
async function logIn(engine: SqlEngine, location: SqlLocation, username: string, password: string) {
  const { host, port, database } = location;
  if (engine === "postgres") {
    const client = new pg.Client({
      host,
      port,
      database,
      user: username,
      password,
      connectionTimeoutMillis: 10_000,
    });
    // A dropped connection fails the query; its 'error' event, unheard, would crash the process.
    client.on("error", () => undefined);
    await client.connect();
    try {
      await client.query("SELECT 1");
    } finally {
      await client.end();
    }
    return;
  }
  const connection = await mysql.createConnection({
    host,
    port,
    user: username,
    password,
    connectTimeout: 10_000,
  });
  try {
    await connection.query("SELECT 1");
  } finally {
    await connection.end();
  }
}

/**
 * The statements making `to` a clone of `from` (user-clone.ts). MySQL's first creates `to` with a
 * random password no one keeps (added to `secrets`): created without one, it would log in with an
 * empty password until the rotation's "set".
 */
async function cloneStatements(admin: SqlAdmin, from: string, to: string, secrets: string[]) {
  if (admin.engine === "postgres") {
    const present = (await admin.select(USER_EXISTS.postgres, [to])).length > 0;
    return [postgresCloneStatement(from, to, present)];
  }
  const unknown = generateSqlPassword(32);
  secrets.push(unknown);
  const create = `CREATE USER IF NOT EXISTS '${to}'@'%' IDENTIFIED BY '{{password}}'`;
  const rows = await admin.select(`SHOW GRANTS FOR '${from}'@'%'`, []);
  const lines = rows.map((row) => String(Object.values(row)[0] ?? ""));
  // Authentication strings (a hash, a plugin's string) are the long quoted ones SHOW GRANTS prints:
  // kept out of messages even if a line's shape escaped mysqlCloneGrants' removal of them.
  for (const line of lines)
    for (const [, quoted = ""] of line.matchAll(/'([^']{16,})'/g)) secrets.push(quoted);
  return [await passwordStatement(admin, create, unknown, secrets), ...mysqlCloneGrants(lines, from, to)];
}

/** The statement giving the rotated user a new password, `{{password}}` standing for it. */
const alterPassword = (db: RotatedDatabase) =>
  db.engine === "postgres"
    ? `ALTER ROLE "${db.username}" WITH PASSWORD '{{password}}'`
    : `ALTER USER '${db.username}'@'%' IDENTIFIED BY '{{password}}'`;

/** Finds a user by name: any role on PostgreSQL, the account `name`@'%' on MySQL (SELECT on mysql.user). */
const USER_EXISTS = {
  postgres: "SELECT 1 FROM pg_roles WHERE rolname = $1",
  mysql: "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'",
} as const;

/**
 * `template` rendered with the verifier or hash the server takes in place of `password`
 * (sql-stored-password.ts), never the password where the server takes one; what it sends is added to
 * `secrets` (a verifier allows offline guessing, so it stays out of messages too).
 */
async function passwordStatement(
  admin: SqlAdmin,
  template: string,
  password: string,
  secrets: string[],
): Promise<string> {
  const sent = await passwordForTemplates(await admin.passwordForm(), [template], password);
  secrets.push(sent.value);
  return (sent.templates[0] ?? template).replace("{{password}}", () => sent.value);
}

export type DatabasePasswords = ReturnType<typeof createDatabasePasswords>;
