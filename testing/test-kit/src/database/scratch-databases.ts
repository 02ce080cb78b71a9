import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";

/**
 * A scratch PostgreSQL database and a scratch MariaDB database, each with an `orders` table, for the
 * leasing tests. The admin URLs are the local superusers (trust auth, root without a password).
 */
export type ScratchDatabases = {
  pgUrl: string;
  mysqlUrl: string;
  pgName: string;
  mysqlName: string;
  /** Roles/users whose names start with `lh_` (Leasehold's) that exist now, on the whole server. */
  leasedRoles(): Promise<{ postgres: string[]; mysql: string[] }>;
  /**
   * Of those, the ones holding a privilege on this scratch database's `orders` table. Other tests
   * running meanwhile create and drop `lh_` roles on the same servers; these are only this test's.
   */
  grantedRoles(): Promise<{ postgres: string[]; mysql: string[] }>;
  /** Whether a database role/user of that name exists. */
  roleExists(engine: "postgres" | "mysql", name: string): Promise<boolean>;
  drop(): Promise<void>;
};

const PG_ADMIN = "postgres://postgres@127.0.0.1:5432";
const MYSQL_ADMIN = { host: "127.0.0.1", port: 3306, user: "root" };

export async function createScratchDatabases(): Promise<ScratchDatabases> {
  const name = `lh_lease_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: `${PG_ADMIN}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const db = new pg.Client({ connectionString: `${PG_ADMIN}/${name}` });
  await db.connect();
  await db.query("CREATE TABLE orders (id int PRIMARY KEY, total numeric)");
  await db.query("INSERT INTO orders VALUES (1, 42)");
  await db.end();

  const my = await mysql.createConnection(MYSQL_ADMIN);
  await my.query(`CREATE DATABASE ${name}`);
  await my.query(`CREATE TABLE ${name}.orders (id int PRIMARY KEY, total decimal(10,2))`);
  await my.query(`INSERT INTO ${name}.orders VALUES (1, 42)`);
  await my.end();

  return {
    pgUrl: `${PG_ADMIN}/${name}`,
    mysqlUrl: `mysql://root@127.0.0.1:3306/${name}`,
    pgName: name,
    mysqlName: name,
    async leasedRoles() {
      const p = new pg.Client({ connectionString: `${PG_ADMIN}/postgres` });
      await p.connect();
      const roles = await p.query<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'lh\\_%'",
      );
      await p.end();
      const m = await mysql.createConnection(MYSQL_ADMIN);
      const [users] = await m.query("SELECT User AS user FROM mysql.user WHERE User LIKE 'lh\\_%'");
      await m.end();
      return {
        postgres: roles.rows.map((r) => r.rolname),
        mysql: (users as { user: string }[]).map((u) => u.user),
      };
    },
    async grantedRoles() {
      const p = new pg.Client({ connectionString: `${PG_ADMIN}/${name}` });
      await p.connect();
      const roles = await p.query<{ rolname: string }>(
        `SELECT DISTINCT r.rolname FROM pg_class c, aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
         WHERE c.relname = 'orders' AND r.rolname LIKE 'lh\\_%' ORDER BY r.rolname`,
      );
      await p.end();
      const m = await mysql.createConnection(MYSQL_ADMIN);
      const [users] = await m.query(
        "SELECT DISTINCT User AS user FROM mysql.tables_priv WHERE Db = ? AND User LIKE 'lh\\_%' ORDER BY User",
        [name],
      );
      await m.end();
      return {
        postgres: roles.rows.map((r) => r.rolname),
        mysql: (users as { user: string }[]).map((u) => u.user),
      };
    },
    async roleExists(engine, name) {
      if (engine === "postgres") {
        const p = new pg.Client({ connectionString: `${PG_ADMIN}/postgres` });
        await p.connect();
        const found = await p.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name]);
        await p.end();
        return found.rowCount === 1;
      }
      const m = await mysql.createConnection(MYSQL_ADMIN);
      const [rows] = await m.query("SELECT 1 FROM mysql.user WHERE User = ?", [name]);
      await m.end();
      return (rows as unknown[]).length > 0;
    },
    async drop() {
      const p = new pg.Client({ connectionString: `${PG_ADMIN}/postgres` });
      await p.connect();
      await p.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await p.end();
      const m = await mysql.createConnection(MYSQL_ADMIN);
      await m.query(`DROP DATABASE IF EXISTS ${name}`);
      await m.end();
    },
  };
}

/** Logs in with a leased credential and runs one statement; resolves to "ok" or the error's code. */
export async function tryAs(
  engine: "postgres" | "mysql",
  credential: Readonly<Record<string, string>>,
  database: string,
  statement: string,
): Promise<string> {
  try {
    if (engine === "postgres") {
      const client = new pg.Client({
        host: "127.0.0.1",
        port: 5432,
        user: credential.username,
        password: credential.password,
        database,
      });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    } else {
      const connection = await mysql.createConnection({
        host: "127.0.0.1",
        port: 3306,
        user: credential.username ?? "",
        password: credential.password ?? "",
        database,
      });
      try {
        await connection.query(statement);
      } finally {
        await connection.end();
      }
    }
    return "ok";
  } catch (error) {
    return String((error as { code?: string }).code ?? "error");
  }
}
