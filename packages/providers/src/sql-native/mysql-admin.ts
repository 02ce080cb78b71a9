import mysql, { type PoolConnection, type RowDataPacket } from "mysql2/promise";
import { SQL_ADMIN_TIMEOUTS, type SqlAdmin, type SqlAdminConnection } from "./sql-admin.js";
import { LEASED_ROLE_PATTERN } from "./sql-credentials.js";
import { isServerError, SqlAdminError } from "./sql-errors.js";
import { mysqlPasswordForm, type PasswordForm } from "./sql-stored-password.js";

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
  timeouts = SQL_ADMIN_TIMEOUTS,
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
  /**
   * Every statement goes through here, with the client's own timeout. Without it a CREATE USER, GRANT
   * or DROP USER behind a session holding the grant tables (LOCK TABLES, a backup's FLUSH TABLES WITH
   * READ LOCK) waits as long as that session does: MariaDB opens the grant tables ignoring
   * lock_wait_timeout. And a connection that dies without closing (a failover, a dropped route) is
   * waited on until TCP gives up, about 15 minutes. On timeout mysql2 destroys the connection
   * (PROTOCOL_SEQUENCE_TIMEOUT, retryable); the server then abandons a statement still waiting.
   */
  const query = <T extends RowDataPacket[]>(connection: PoolConnection, sql: string, values?: unknown[]) =>
    connection.query<T>({ sql, timeout: timeouts.statementMs }, values);

  async function withConnection<T>(use: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await pool.getConnection();
    let broken = false;
    try {
      return await use(connection);
    } catch (error) {
      // After a server's refusal or our own check the session is intact. After anything else it is
      // not: a timed-out statement stays the connection's current command in mysql2, so the next
      // one would queue behind it for good. (mysql2 drops a connection that failed fatally itself.)
      broken = !isServerError(error) && !(error instanceof SqlAdminError);
      throw error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  /**
   * Without PROCESS, information_schema.PROCESSLIST silently lists only the admin's own sessions,
   * so revocation would find nothing to end and report success. Refuse loudly instead.
   */
  async function requireProcessPrivilege(connection: PoolConnection): Promise<void> {
    if (canSeeAllSessions) return;
    const [rows] = await query(connection, "SHOW GRANTS");
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
    const [rows] = await query(
      connection,
      "SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN (?)",
      [users],
    );
    for (const row of rows) {
      try {
        await query(connection, "KILL CONNECTION ?", [Number(row.ID)]);
      } catch (error) {
        // The session ended by itself between the listing and the KILL.
        if ((error as { errno?: unknown }).errno !== ER_NO_SUCH_THREAD) throw error;
      }
    }
  }

  let passwordForm: Promise<PasswordForm> | undefined;

  return {
    engine: "mysql",
    location,
    secrets,

    run: (statements, signal) =>
      withConnection(async (connection) => {
        for (const statement of statements) {
          signal?.throwIfAborted();
          await query(connection, statement);
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
            await query(connection, statement);
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
        const [rows] = await query(
          connection,
          `SELECT User AS name FROM mysql.db WHERE Db = DATABASE() AND User REGEXP ?
           UNION SELECT User FROM mysql.tables_priv WHERE Db = DATABASE() AND User REGEXP ?
           UNION SELECT USER FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND USER REGEXP ?
           ORDER BY 1`,
          [LEASED_ROLE_PATTERN, LEASED_ROLE_PATTERN, LEASED_ROLE_PATTERN],
        );
        return rows.map((row) => String(row.name));
      }),

    passwordForm(signal) {
      if (passwordForm) return passwordForm;
      const reading = withConnection(async (connection) => {
        signal?.throwIfAborted();
        const [rows] = await query(connection, "SELECT VERSION() AS version");
        return mysqlPasswordForm(String(rows[0]?.version ?? ""));
      });
      passwordForm = reading;
      // A failed read is not kept: the next lease asks again.
      reading.catch(() => {
        if (passwordForm === reading) passwordForm = undefined;
      });
      return reading;
    },

    select: (sql, params, signal) =>
      withConnection(async (c) => {
        signal?.throwIfAborted();
        const [rows] = await query(c, sql, [...params]);
        return rows as Record<string, unknown>[];
      }),

    ping: (signal) =>
      withConnection(async (c) => {
        signal?.throwIfAborted();
        await query(c, "SELECT 1");
      }),

    close: () => pool.end(),
  };
}
