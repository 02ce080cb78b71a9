import mysql, { type PoolConnection, type RowDataPacket } from "mysql2/promise";
import type { SqlAdmin, SqlAdminConnection } from "./sql-admin.js";
import { LEASED_ROLE_PATTERN } from "./sql-credentials.js";
import { SqlAdminError } from "./sql-errors.js";

const ER_NO_SUCH_THREAD = 1094;

/**
 * MySQL/MariaDB through a mysql2 pool. The admin account needs CREATE USER, the privileges it grants
 * (WITH GRANT OPTION), PROCESS (to see other users' sessions) and CONNECTION ADMIN or SUPER (to KILL
 * them): DROP USER leaves a dropped user's open sessions running. The drift reconciliation also needs
 * SELECT on mysql.db and mysql.tables_priv (to see which accounts hold privileges on the database).
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: an engine is one object of the SqlAdmin methods over the pool it closes over; each method is short.
export function openMysqlAdmin({
  adminUrl,
  location,
  secrets,
  maxConnections,
}: SqlAdminConnection): SqlAdmin {
  const pool = mysql.createPool({
    uri: adminUrl,
    connectionLimit: maxConnections,
    maxIdle: maxConnections,
    idleTimeout: 30_000,
    connectTimeout: 10_000,
    waitForConnections: true,
    // One statement per template: a template cannot smuggle in a second one.
    multipleStatements: false,
  });
  // Whether the admin can see every user's sessions, checked once per pool.
  let canSeeAllSessions = false;

  async function withConnection<T>(use: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await pool.getConnection();
    try {
      return await use(connection);
    } finally {
      // mysql2 drops a connection that failed fatally from the pool by itself.
      connection.release();
    }
  }

  /**
   * Without PROCESS, information_schema.PROCESSLIST silently lists only the admin's own sessions,
   * so revocation would find nothing to end and report success. Refuse loudly instead.
   */
  async function requireProcessPrivilege(connection: PoolConnection): Promise<void> {
    if (canSeeAllSessions) return;
    const [rows] = await connection.query<RowDataPacket[]>("SHOW GRANTS");
    canSeeAllSessions = rows.some((row) =>
      Object.values(row).some(
        (grant) =>
          typeof grant === "string" && /^GRANT (?:.*\bPROCESS\b|ALL PRIVILEGES).* ON \*\.\* TO /i.test(grant),
      ),
    );
    if (!canSeeAllSessions) {
      throw new SqlAdminError(
        "the admin account lacks the PROCESS privilege, so it cannot see (or end) a leased user's sessions",
        { code: "ADMIN_LACKS_PROCESS", retryable: false },
      );
    }
  }

  async function killSessions(connection: PoolConnection, users: readonly string[]): Promise<void> {
    const [rows] = await connection.query<RowDataPacket[]>(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN (?)",
      [users],
    );
    for (const row of rows) {
      try {
        await connection.query("KILL CONNECTION ?", [Number(row.ID)]);
      } catch (error) {
        // The session ended by itself between the listing and the KILL.
        if ((error as { errno?: unknown }).errno !== ER_NO_SUCH_THREAD) throw error;
      }
    }
  }

  return {
    engine: "mysql",
    location,
    secrets,

    run: (statements, signal) =>
      withConnection(async (connection) => {
        for (const statement of statements) {
          signal?.throwIfAborted();
          await connection.query(statement);
        }
      }),

    endRoles: (roles, signal) =>
      withConnection(async (connection) => {
        const users = roles.map((r) => r.name);
        await requireProcessPrivilege(connection);
        await killSessions(connection, users);
        for (const role of roles) {
          for (const statement of role.revocation) {
            signal?.throwIfAborted();
            await connection.query(statement);
          }
        }
        // The templates name the account's host, so it cannot be locked beforehand in general; a
        // second pass ends any session that logged in between the first pass and the DROP USER.
        await killSessions(connection, users);
      }),

    // Accounts holding a privilege on this database or one of its tables (reading mysql.db and
    // mysql.tables_priv needs SELECT on them); a session open on it counts too.
    listLeasedRoles: (signal) =>
      withConnection(async (connection) => {
        signal?.throwIfAborted();
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT User AS name FROM mysql.db WHERE Db = DATABASE() AND User REGEXP ?
           UNION SELECT User FROM mysql.tables_priv WHERE Db = DATABASE() AND User REGEXP ?
           UNION SELECT USER FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND USER REGEXP ?
           ORDER BY 1`,
          [LEASED_ROLE_PATTERN, LEASED_ROLE_PATTERN, LEASED_ROLE_PATTERN],
        );
        return rows.map((row) => String(row.name));
      }),

    ping: (signal) =>
      withConnection(async (c) => {
        signal?.throwIfAborted();
        await c.query("SELECT 1");
      }),

    close: () => pool.end(),
  };
}
