import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";

/** The database engines the SQL provider serves. */
export type SqlEngine = "postgres" | "mysql";

/**
 * Scratch databases for the SQL provider's tests, on the local servers (override with
 * LEASEHOLD_TEST_POSTGRES_URL / LEASEHOLD_TEST_MYSQL_URL, superuser URLs without a database). Each
 * suite gets its own database with an `orders` table, and a dedicated admin account that has a
 * password and only the privileges the provider needs (not a superuser). Leased roles are named
 * after grant ids that start with the suite's prefix, so `drop()` removes every one of them.
 */

const POSTGRES_SUPERUSER = process.env.LEASEHOLD_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";
const MYSQL_SUPERUSER = process.env.LEASEHOLD_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";

/** A connection made with a leased credential. */
export type LeaseSession = {
  query(sql: string): Promise<unknown>;
  close(): Promise<void>;
};

export type SqlScratch = {
  readonly engine: SqlEngine;
  readonly database: string;
  readonly adminUser: string;
  /** Contains URL-special characters, percent-encoded in `adminUrl`. */
  readonly adminPassword: string;
  readonly adminUrl: string;
  /** A new grant id whose role name falls under this suite's prefix. */
  grantId(): string;
  /**
   * A `sql` target as leasehold.yaml would hold it; `sql` overrides the default statements. The SQL
   * provider's tests parse it with the provider's own schema (the test kit cannot depend on providers,
   * which use the test kit).
   */
  targetConfig(sql?: Record<string, unknown>): Record<string, unknown>;
  /** The fully qualified orders table, for statements. */
  readonly orders: string;
  roleExists(name: string): Promise<boolean>;
  /** Whether `password` is the role's password (PostgreSQL here trusts local logins, so check the verifier). */
  passwordMatches(name: string, password: string): Promise<boolean>;
  /** Ids of the admin account's open sessions. */
  adminSessions(): Promise<number[]>;
  /** Ends the admin account's sessions, as a server restart would. */
  killAdminSessions(): Promise<void>;
  /** Logs in with a leased credential's URL. */
  login(url: string): Promise<LeaseSession>;
  /** Runs a query as the superuser, in the scratch database. */
  superuser(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
};

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const ADMIN_PASSWORD = () => `Adm!n p@ss/${hex(6)}:#?&`;

function grantIdFactory(prefix: string) {
  return () => `${prefix}-${hex(2)}-4${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`;
}

function targetFactory(engine: SqlEngine, creation: string[]) {
  return (sql: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: "orders-readonly",
    kind: "sql",
    leases: [{ provider: "ci", subject: "app", maxTtl: "1h" }],
    maxDuration: "12h",
    sql: { engine, adminUrlEnv: "ORDERS_DB_ADMIN_URL", creationStatements: creation, ...sql },
  });
}

export const createSqlScratch = (engine: SqlEngine): Promise<SqlScratch> =>
  engine === "postgres" ? createPostgresScratch() : createMysqlScratch();

async function createPostgresScratch(): Promise<SqlScratch> {
  const prefix = hex(4);
  const database = `lh_sqlprov_${prefix}`;
  const adminUser = `${database}_admin`;
  const adminPassword = ADMIN_PASSWORD();
  const server = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/postgres` });
  await server.connect();
  await server.query(
    `CREATE ROLE ${adminUser} LOGIN CREATEROLE PASSWORD '${adminPassword.replaceAll("'", "''")}'`,
  );
  // Ending a leased role's sessions needs pg_signal_backend (or membership in the role).
  await server.query(`GRANT pg_signal_backend TO ${adminUser}`);
  await server.query(`CREATE DATABASE ${database} OWNER ${adminUser}`);
  await server.end();

  const superuser = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/${database}` });
  await superuser.connect();
  await superuser.query("CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL)");
  await superuser.query("INSERT INTO orders VALUES (1, 'apples'), (2, 'pears')");
  await superuser.query(`ALTER TABLE orders OWNER TO ${adminUser}`);

  const url = new URL(`${POSTGRES_SUPERUSER}/${database}`);
  url.username = adminUser;
  url.password = encodeURIComponent(adminPassword);
  const query = async (sql: string, params: unknown[] = []) => (await superuser.query(sql, params)).rows;

  return {
    engine: "postgres",
    database,
    adminUser,
    adminPassword,
    adminUrl: url.toString(),
    orders: "orders",
    grantId: grantIdFactory(prefix),
    targetConfig: targetFactory("postgres", [
      `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      `GRANT SELECT ON orders TO "{{name}}"`,
    ]),
    superuser: query,
    roleExists: async (name) => (await query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).length > 0,
    async passwordMatches(name, password) {
      const [row] = await query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [name]);
      return scramVerifierMatches(String(row?.rolpassword ?? ""), password);
    },
    adminSessions: async () =>
      (await query("SELECT pid FROM pg_stat_activity WHERE usename = $1 ORDER BY pid", [adminUser])).map(
        (r) => Number(r.pid),
      ),
    async killAdminSessions() {
      await query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [adminUser]);
    },
    async login(leaseUrl) {
      const client = new pg.Client({ connectionString: leaseUrl });
      // A terminated session emits 'error' while idle; the test sees it on the next query instead.
      client.on("error", () => undefined);
      await client.connect();
      return { query: (sql) => client.query(sql), close: () => client.end().catch(() => undefined) };
    },
    async drop() {
      await superuser.end();
      const cleanup = new pg.Client({ connectionString: `${POSTGRES_SUPERUSER}/postgres` });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        const { rows } = await cleanup.query<{ rolname: string }>(
          "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
          [`lh\\_${prefix}%`],
        );
        for (const { rolname } of rows) {
          await cleanup.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [
            rolname,
          ]);
          await cleanup.query(`DROP ROLE IF EXISTS "${rolname}"`);
        }
        await cleanup.query(`DROP ROLE IF EXISTS ${adminUser}`);
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

async function createMysqlScratch(): Promise<SqlScratch> {
  const prefix = hex(4);
  const database = `lh_sqlprov_${prefix}`;
  const adminUser = `${database}_admin`;
  const adminPassword = ADMIN_PASSWORD();
  const superuser = await mysql.createConnection({ uri: MYSQL_SUPERUSER, multipleStatements: false });
  await superuser.query(`CREATE DATABASE ${database}`);
  await superuser.query(`CREATE TABLE ${database}.orders (id int PRIMARY KEY, item text NOT NULL)`);
  await superuser.query(`INSERT INTO ${database}.orders VALUES (1, 'apples'), (2, 'pears')`);
  await superuser.query(`CREATE TABLE ${database}.renewals (name varchar(64), expiration varchar(64))`);
  await superuser.query("CREATE USER ?@'%' IDENTIFIED BY ?", [adminUser, adminPassword]);
  // What the provider needs: create users, see and end their sessions, and pass on what it grants.
  await superuser.query(`GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO ?@'%'`, [adminUser]);
  await superuser.query(`GRANT SELECT, INSERT ON ${database}.* TO ?@'%' WITH GRANT OPTION`, [adminUser]);
  // The drift reconciliation reads which accounts hold privileges on the database (and nothing else).
  await superuser.query("GRANT SELECT ON mysql.db TO ?@'%'", [adminUser]);
  await superuser.query("GRANT SELECT ON mysql.tables_priv TO ?@'%'", [adminUser]);

  const url = new URL(`${MYSQL_SUPERUSER}/${database}`);
  url.username = adminUser;
  url.password = encodeURIComponent(adminPassword);
  const query = async (sql: string, params: unknown[] = []) =>
    (await superuser.query(sql, params))[0] as Record<string, unknown>[];

  return {
    engine: "mysql",
    database,
    adminUser,
    adminPassword,
    adminUrl: url.toString(),
    orders: `${database}.orders`,
    grantId: grantIdFactory(prefix),
    targetConfig: targetFactory("mysql", [
      `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
      `GRANT SELECT ON ${database}.orders TO '{{name}}'@'%'`,
    ]),
    superuser: query,
    roleExists: async (name) => (await query("SELECT 1 FROM mysql.user WHERE User = ?", [name])).length > 0,
    async passwordMatches(name, password) {
      const connection = await mysql
        .createConnection({ uri: MYSQL_SUPERUSER, user: name, password })
        .catch(() => undefined);
      await connection?.end();
      return connection !== undefined;
    },
    adminSessions: async () =>
      (
        await query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? ORDER BY ID", [adminUser])
      ).map((r) => Number(r.ID)),
    async killAdminSessions() {
      const sessions = await query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
        adminUser,
      ]);
      for (const s of sessions) await superuser.query("KILL ?", [Number(s.ID)]).catch(() => undefined);
    },
    async login(leaseUrl) {
      const connection = await mysql.createConnection(leaseUrl);
      connection.on("error", () => undefined);
      return {
        query: (sql) => connection.query(sql),
        close: () => connection.end().catch(() => undefined),
      };
    },
    async drop() {
      try {
        await superuser.query(`DROP DATABASE IF EXISTS ${database}`);
        const users = await query("SELECT User, Host FROM mysql.user WHERE User LIKE ? OR User = ?", [
          `lh\\_${prefix}%`,
          adminUser,
        ]);
        for (const user of users) {
          const sessions = await query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
            user.User,
          ]);
          for (const s of sessions) await superuser.query("KILL ?", [Number(s.ID)]).catch(() => undefined);
          await superuser.query("DROP USER IF EXISTS ?@?", [user.User, user.Host]);
        }
      } finally {
        await superuser.end();
      }
    },
  };
}
