import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";
import type { VaultDatabaseRole } from "./vault-sandbox-types.js";

/**
 * Scratch databases for the Vault stand-in's tests, on the local servers (override with
 * LEASEHOLD_TEST_POSTGRES_URL / LEASEHOLD_TEST_MYSQL_URL, superuser URLs without a database, as the
 * providers package does). Each suite gets its own database with a `widgets` table and a role name of
 * its own, so `drop()` can also remove any user a failed test left behind.
 */

const POSTGRES_SUPERUSER = process.env.LEASEHOLD_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";
const MYSQL_SUPERUSER = process.env.LEASEHOLD_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";

/** A session opened with leased credentials; `query` resolves with the rows. */
export type DatabaseSession = {
  query(sql: string): Promise<unknown[]>;
  close(): Promise<void>;
};

export type ScratchDatabase = {
  engine: "postgres" | "mysql";
  database: string;
  /** A role name unique to this suite (8 characters, so it survives the username templates' truncation). */
  roleName: string;
  /** A database role for the stand-in; grants SELECT on widgets. Overrides replace fields. */
  role(overrides?: Partial<VaultDatabaseRole>): VaultDatabaseRole;
  /** Revocation statements that also end the user's sessions, as a careful Vault role would have. */
  revocationEndingSessions: readonly string[];
  userExists(username: string): Promise<boolean>;
  /** Whether `password` is the user's password (PostgreSQL here trusts local logins: checks the verifier). */
  passwordMatches(username: string, password: string): Promise<boolean>;
  /** PostgreSQL's `rolvaliduntil` for the user (undefined on MySQL). */
  validUntil(username: string): Promise<Date | undefined>;
  login(username: string, password: string): Promise<DatabaseSession>;
  drop(): Promise<void>;
};

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

export const createScratchDatabase = (engine: "postgres" | "mysql"): Promise<ScratchDatabase> =>
  engine === "postgres" ? createPostgresScratch() : createMysqlScratch();

async function createPostgresScratch(): Promise<ScratchDatabase> {
  const suffix = hex(3);
  const database = `lh_vault_${suffix}`;
  const roleName = `ro${suffix}`;
  const server = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/postgres` });
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  await server.end();
  const superuser = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/${database}` });
  await superuser.connect();
  await superuser.query("CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL)");
  await superuser.query("INSERT INTO widgets VALUES (1, 'sprocket'), (2, 'gear')");
  const query = async (sql: string, params: unknown[] = []) => (await superuser.query(sql, params)).rows;
  const userUrl = (username: string, password: string) => {
    const url = new URL(`${POSTGRES_SUPERUSER}/${database}`);
    url.username = encodeURIComponent(username);
    url.password = encodeURIComponent(password);
    return url.toString();
  };
  return {
    engine: "postgres",
    database,
    roleName,
    role: (overrides = {}) => ({
      name: roleName,
      engine: "postgres",
      connectionUrl: `${POSTGRES_SUPERUSER}/${database}`,
      creationStatements: [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
        `GRANT SELECT ON widgets TO "{{name}}";`,
      ],
      revocationStatements: [`REVOKE ALL ON widgets FROM "{{name}}";`, `DROP ROLE IF EXISTS "{{name}}";`],
      defaultTtlSeconds: 3600,
      maxTtlSeconds: 7200,
      ...overrides,
    }),
    revocationEndingSessions: [
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
      `REVOKE ALL ON widgets FROM "{{name}}";`,
      `DROP ROLE IF EXISTS "{{name}}";`,
    ],
    userExists: async (username) =>
      (await query("SELECT 1 FROM pg_roles WHERE rolname = $1", [username])).length > 0,
    async passwordMatches(username, password) {
      const [row] = await query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [username]);
      return scramVerifierMatches(String(row?.rolpassword ?? ""), password);
    },
    async validUntil(username) {
      const [row] = await query("SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", [username]);
      return row?.rolvaliduntil instanceof Date ? row.rolvaliduntil : undefined;
    },
    async login(username, password) {
      const client = new pg.Client({ connectionString: userUrl(username, password) });
      // A terminated session emits 'error' while idle; the test sees it on the next query instead.
      client.on("error", () => undefined);
      await client.connect();
      return {
        query: async (sql) => (await client.query(sql)).rows,
        close: () => client.end().catch(() => undefined),
      };
    },
    async drop() {
      await superuser.end();
      const cleanup = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/postgres` });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        const { rows } = await cleanup.query<{ rolname: string }>(
          "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
          [`v-%-${roleName}-%`],
        );
        for (const { rolname } of rows) await cleanup.query(`DROP ROLE IF EXISTS "${rolname}"`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/** Checks a password against a PostgreSQL SCRAM-SHA-256 verifier (RFC 5802 StoredKey). */
function scramVerifierMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match?.[1] || !match[2] || !match[3]) return false;
  const salted = pbkdf2Sync(password, Buffer.from(match[2], "base64"), Number(match[1]), 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return createHash("sha256").update(clientKey).digest("base64") === match[3];
}

async function createMysqlScratch(): Promise<ScratchDatabase> {
  const suffix = hex(3);
  const database = `lh_vault_${suffix}`;
  const roleName = `ro${suffix}`;
  const superuser = await mysql.createConnection({ uri: MYSQL_SUPERUSER });
  await superuser.query(`CREATE DATABASE ${database}`);
  await superuser.query(`CREATE TABLE ${database}.widgets (id int PRIMARY KEY, name text NOT NULL)`);
  await superuser.query(`INSERT INTO ${database}.widgets VALUES (1, 'sprocket'), (2, 'gear')`);
  const query = async (sql: string, params: unknown[] = []) =>
    (await superuser.query(sql, params))[0] as Record<string, unknown>[];
  const connect = (username: string, password: string) =>
    mysql.createConnection({ uri: `${MYSQL_SUPERUSER}/${database}`, user: username, password });
  return {
    engine: "mysql",
    database,
    roleName,
    role: (overrides = {}) => ({
      name: roleName,
      engine: "mysql",
      connectionUrl: `${MYSQL_SUPERUSER}/${database}`,
      creationStatements: [
        "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';",
        `GRANT SELECT ON ${database}.widgets TO '{{name}}'@'%';`,
      ],
      revocationStatements: ["DROP USER IF EXISTS '{{name}}'@'%';"],
      defaultTtlSeconds: 3600,
      maxTtlSeconds: 7200,
      ...overrides,
    }),
    // MariaDB's KILL USER; MySQL has no single statement for it.
    revocationEndingSessions: ["KILL USER '{{name}}';", "DROP USER IF EXISTS '{{name}}'@'%';"],
    userExists: async (username) =>
      (await query("SELECT 1 FROM mysql.user WHERE User = ?", [username])).length > 0,
    async passwordMatches(username, password) {
      const connection = await connect(username, password).catch(() => undefined);
      await connection?.end();
      return connection !== undefined;
    },
    validUntil: async () => undefined,
    async login(username, password) {
      const connection = await connect(username, password);
      connection.on("error", () => undefined);
      return {
        query: async (sql) => {
          const [rows] = await connection.query(sql);
          return Array.isArray(rows) ? rows : [rows];
        },
        close: () => connection.end().catch(() => undefined),
      };
    },
    async drop() {
      try {
        await superuser.query(`DROP DATABASE IF EXISTS ${database}`);
        const users = await query("SELECT User, Host FROM mysql.user WHERE User LIKE ?", [
          `v-%-${roleName}-%`,
        ]);
        for (const user of users) await superuser.query("DROP USER IF EXISTS ?@?", [user.User, user.Host]);
      } finally {
        await superuser.end();
      }
    },
  };
}
