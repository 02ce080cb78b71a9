import { randomInt } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";
import type { VaultDatabaseRole } from "./vault-sandbox-types.js";
import { randomBase62 } from "./vault-wire.js";

/**
 * The database secrets engine's side that talks to the database: user names and passwords generated the
 * way Vault's built-in plugins generate them, statements templated and run the way those plugins run
 * them, against the real server through one admin pool per role.
 */

/** Vault's default username template limits per plugin: display name, role name, whole name. */
const USERNAME_LIMITS = {
  // {{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}
  postgres: { displayName: 8, roleName: 8, total: 63 },
  // {{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}
  mysql: { displayName: 10, roleName: 10, total: 32 },
} as const;

/** A user name as Vault's default template for the engine makes it (mixed-case base62 random part). */
export function generateUsername(
  engine: VaultDatabaseRole["engine"],
  displayName: string,
  roleName: string,
  now: Date,
): string {
  const limits = USERNAME_LIMITS[engine];
  const unixTime = Math.floor(now.getTime() / 1000);
  const full = `v-${displayName.slice(0, limits.displayName)}-${roleName.slice(0, limits.roleName)}-${randomBase62(20)}-${unixTime}`;
  return full.slice(0, limits.total);
}

const PASSWORD_CHARSETS = [
  "abcdefghijklmnopqrstuvwxyz",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  "0123456789",
  "-",
] as const;

/**
 * Vault's default password policy: 20 characters of [a-zA-Z0-9-] with at least one lower-case letter,
 * upper-case letter, digit and dash.
 */
export function generatePassword(): string {
  const alphabet = PASSWORD_CHARSETS.join("");
  for (;;) {
    let password = "";
    for (let index = 0; index < 20; index += 1) password += alphabet.charAt(randomInt(alphabet.length));
    if (PASSWORD_CHARSETS.every((set) => [...password].some((char) => set.includes(char)))) return password;
  }
}

/** `{{expiration}}` as Vault's plugins format it: Go layout "2006-01-02 15:04:05-0700", in UTC. */
export function formatExpiration(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")}+0000`;
}

/** Vault's `dbutil.QueryHelper`: plain replacement of `{{key}}`, no quoting (the statements quote). */
export function renderStatement(template: string, values: Readonly<Record<string, string>>): string {
  let out = template;
  for (const [key, value] of Object.entries(values)) out = out.replaceAll(`{{${key}}}`, value);
  return out;
}

/** The plugins split each statement on ";" and drop empty pieces. */
export const splitStatements = (statement: string): string[] =>
  statement
    .split(";")
    .map((piece) => piece.trim())
    .filter((piece) => piece !== "");

/**
 * The PostgreSQL plugin runs a statement containing the keyword END (outside quotes: a DO block, a
 * function body) as one query instead of splitting it.
 */
export function isMultilinePostgresStatement(statement: string): boolean {
  const withoutLiterals = statement.replace(/"[^"]*"/g, "").replace(/'[^']*'/g, "");
  return /\bEND\b/.test(withoutLiterals);
}

function queriesOf(
  engine: VaultDatabaseRole["engine"],
  statements: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  return statements.flatMap((statement) =>
    engine === "postgres" && isMultilinePostgresStatement(statement)
      ? [renderStatement(statement, values)]
      : splitStatements(statement).map((query) => renderStatement(query, values)),
  );
}

/** Vault's plugin defaults for a role without revocation (or, for PostgreSQL, renewal) statements. */
const DEFAULT_STATEMENTS = {
  postgres: {
    revocation: [
      'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}";',
      'REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM "{{name}}";',
      'REVOKE USAGE ON SCHEMA public FROM "{{name}}";',
      'DROP ROLE IF EXISTS "{{name}}";',
    ],
    renewal: [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`],
  },
  mysql: {
    revocation: ["REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%'; DROP USER '{{name}}'@'%'"],
    renewal: [],
  },
} as const;

/** What the stand-in throws while `failDatabase(true)`: what Go's driver says when nothing listens. */
export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";
}

export type DatabaseEngine = {
  role: VaultDatabaseRole;
  /** Creates the user: returns the name and password, or throws the database's (or plugin's) error. */
  createUser(input: { displayName: string; now: Date; expiration: Date }): Promise<{
    username: string;
    password: string;
  }>;
  /** Moves the user's expiry (PostgreSQL); a no-op for MySQL, as in Vault. */
  renewUser(username: string, expiration: Date): Promise<void>;
  /** Runs the revocation statements (after ending sessions, when the role asks for that test device). */
  revokeUser(username: string): Promise<void>;
  close(): Promise<void>;
};

type Runner = {
  /** Runs the queries in one transaction on one admin connection. */
  inTransaction(queries: readonly string[]): Promise<void>;
  terminateSessions(username: string): Promise<void>;
  end(): Promise<void>;
};

function postgresRunner(connectionUrl: string): Runner {
  const pool = new pg.Pool({
    connectionString: connectionUrl,
    max: 2,
    connectionTimeoutMillis: 5000,
    // A statement stuck on a lock must not hang a request (or close()) forever.
    statement_timeout: 10_000,
  });
  // An idle admin connection can be ended under us (a test dropping its database); that must not crash.
  pool.on("error", () => undefined);
  return {
    async inTransaction(queries) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        for (const query of queries) await client.query(query);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async terminateSessions(username) {
      await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [
        username,
      ]);
    },
    end: () => pool.end(),
  };
}

function mysqlRunner(connectionUrl: string): Runner {
  const pool = mysql.createPool({ uri: connectionUrl, connectionLimit: 2, connectTimeout: 5000 });
  return {
    async inTransaction(queries) {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        for (const query of queries) await connection.query(query);
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    async terminateSessions(username) {
      const [rows] = await pool.query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
        username,
      ]);
      for (const row of Array.isArray(rows) ? rows : []) {
        const id = typeof row === "object" && row !== null && "ID" in row ? Number(row.ID) : Number.NaN;
        if (Number.isInteger(id)) await pool.query(`KILL CONNECTION ${id}`).catch(() => undefined);
      }
    },
    end: () => pool.end(),
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** `host:port` of a connection URL, for the "connection refused" message of a failing database. */
function addressOf(connectionUrl: string, engine: VaultDatabaseRole["engine"]): string {
  try {
    const url = new URL(connectionUrl);
    return `${url.hostname}:${url.port || (engine === "postgres" ? "5432" : "3306")}`;
  } catch {
    return "database";
  }
}

/** The engine for one role; the admin pool opens on first use. `failing()` is read before every call. */
export function createDatabaseEngine(role: VaultDatabaseRole, failing: () => boolean): DatabaseEngine {
  let runner: Runner | undefined;
  const connect = (): Runner => {
    if (failing()) {
      throw new DatabaseUnreachableError(
        `dial tcp ${addressOf(role.connectionUrl, role.engine)}: connect: connection refused`,
      );
    }
    runner ??=
      role.engine === "postgres" ? postgresRunner(role.connectionUrl) : mysqlRunner(role.connectionUrl);
    return runner;
  };
  const defaults = DEFAULT_STATEMENTS[role.engine];
  return {
    role,
    async createUser({ displayName, now, expiration }) {
      const username = generateUsername(role.engine, displayName, role.name, now);
      const password = generatePassword();
      const queries = queriesOf(role.engine, role.creationStatements, {
        name: username,
        username,
        password,
        expiration: formatExpiration(expiration),
      });
      try {
        await connect().inTransaction(queries);
      } catch (error) {
        // Vault's error sanitizer keeps the password out of messages; so does this.
        const message = messageOf(error).replaceAll(password, "[password]");
        throw new Error(role.engine === "postgres" ? `failed to execute query: ${message}` : message);
      }
      return { username, password };
    },
    async renewUser(username, expiration) {
      if (role.engine === "mysql") return;
      const statements = role.renewStatements ?? defaults.renewal;
      const queries = queriesOf(role.engine, statements, {
        name: username,
        username,
        expiration: formatExpiration(expiration),
      });
      if (queries.length > 0) await connect().inTransaction(queries);
    },
    async revokeUser(username) {
      const active = connect();
      if (role.terminateSessionsOnRevoke === true) await active.terminateSessions(username);
      const statements =
        role.revocationStatements.length > 0 ? role.revocationStatements : defaults.revocation;
      await active.inTransaction(queriesOf(role.engine, statements, { name: username, username }));
    },
    async close() {
      const open = runner;
      runner = undefined;
      await open?.end();
    },
  };
}
