import pg from "pg";
import { SQL_ADMIN_TIMEOUTS, type SqlAdmin, type SqlAdminConnection } from "./sql-admin.js";
import { LEASED_ROLE_PATTERN } from "./sql-credentials.js";
import { isServerError, SqlAdminError } from "./sql-errors.js";
import { type PasswordForm, postgresPasswordForm } from "./sql-stored-password.js";

/**
 * Serializes Leasehold's ACL changes on one database. Two transactions that GRANT on the same table at
 * once fail with `XX000 tuple concurrently updated` (measured here: 5 of 10 concurrent leases failed), so
 * every transaction here takes this transaction-scoped advisory lock first. Its wait is bounded by
 * lock_timeout (55P03, retryable). Any fixed 64-bit key works; this one is Leasehold's.
 */
export const POSTGRES_ACL_LOCK = "SELECT pg_advisory_xact_lock(7240469123391452481)";

/**
 * A statement that only creates a role (CREATE ROLE / CREATE USER / CREATE GROUP): it inserts into
 * pg_authid (and pg_auth_members for IN ROLE, ROLE, ADMIN) and updates no shared row, so concurrent
 * ones do not collide the way concurrent GRANTs on one table do. One statement only: a template with a
 * `;` inside (PostgreSQL's simple protocol runs several) is run under the lock like any other.
 */
const CREATES_ROLE = /^\s*CREATE\s+(?:ROLE|USER|GROUP)\s[^;]*;?\s*$/i;

/** Waits for every reply; rejects with the first failure, in the order the statements were sent. */
async function firstFailure(replies: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(replies)).find((reply) => reply.status === "rejected");
  if (failed) throw failed.reason;
}

/** How long pg_terminate_backend waits for each session to exit, in milliseconds. */
const TERMINATE_WAIT_MS = 5000;

/**
 * Roles named like Leasehold's with a tie to the current database: an ACL entry or an owned object in
 * it (pg_shdepend rows of this database), a privilege on the database itself, or an open session.
 */
const POSTGRES_LEASED_ROLES = `
  SELECT r.rolname FROM pg_roles r, pg_database d
   WHERE d.datname = current_database() AND r.rolname ~ $1
     AND (EXISTS (SELECT 1 FROM pg_shdepend s
                   WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
                     AND (s.dbid = d.oid OR (s.classid = 'pg_database'::regclass AND s.objid = d.oid)))
       OR EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usename = r.rolname AND a.datname = d.datname))
   ORDER BY r.rolname`;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** PostgreSQL through a pg.Pool. Needs PostgreSQL 14+ (pg_terminate_backend with a timeout). */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: an engine is one object of the SqlAdmin methods over the pool it closes over; each method is short.
export function openPostgresAdmin({
  adminUrl,
  location,
  secrets,
  maxConnections,
  timeouts = SQL_ADMIN_TIMEOUTS,
  postgresSocket,
}: SqlAdminConnection): SqlAdmin {
  const pool = new pg.Pool({
    connectionString: adminUrl,
    max: maxConnections,
    // pg waits forever for a connection by default; a down server must fail the job instead.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    application_name: "leasehold",
    // A statement goes out without waiting for the answers to those before it on its connection.
    pipeline: true,
    ...(postgresSocket ? { stream: postgresSocket } : {}),
  });
  // An idle client's connection can drop (server restart). Without a listener the pool's 'error'
  // event would crash the process; the pool already discards the client, and the next use reconnects.
  pool.on("error", () => undefined);

  // Clients whose connection may be unusable (network error, failed ROLLBACK): discarded, not reused.
  const broken = new WeakSet<pg.PoolClient>();

  async function withClient<T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A dying connection also emits 'error' on a checked-out client; unheard, it would crash the process.
    const onError = () => broken.add(client);
    client.on("error", onError);
    try {
      return await use(client);
    } catch (error) {
      // After a server's refusal or our own check the session is intact (any transaction rolled back).
      if (!isServerError(error) && !(error instanceof SqlAdminError)) broken.add(client);
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken.has(client));
    }
  }

  /** Runs `work` in a transaction; `lockFirst`: take the ACL lock before it (else `work` takes it). */
  async function inTransaction(
    client: pg.PoolClient,
    work: () => Promise<void>,
    signal: AbortSignal | undefined,
    lockFirst = true,
  ): Promise<void> {
    // BEGIN goes out with the first statement (the pool pipelines). It fails only with its connection,
    // and then so does that statement.
    const begun = client.query("BEGIN");
    begun.catch(() => undefined);
    try {
      if (lockFirst) await client.query(POSTGRES_ACL_LOCK);
      await work();
      await begun;
      signal?.throwIfAborted();
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => broken.add(client));
      throw error;
    }
  }

  let passwordForm: Promise<PasswordForm> | undefined;

  return {
    engine: "postgres",
    location,
    secrets,

    run: (statements, signal) =>
      withClient((client) => {
        signal?.throwIfAborted();
        // CREATE ROLE runs before the lock: it changes no ACL, and it is the slow statement (even given
        // a verifier, PostgreSQL runs PBKDF2 once to refuse an empty password: user.c,
        // plain_crypt_verify(role, password, "")). The lock then covers the GRANTs and the commit.
        const lockAt = statements.findIndex((statement) => !CREATES_ROLE.test(statement));
        const ordered =
          lockAt === -1
            ? statements
            : [...statements.slice(0, lockAt), POSTGRES_ACL_LOCK, ...statements.slice(lockAt)];
        // Sent together with BEGIN, in one round trip: none needs another's answer, and PostgreSQL runs
        // a connection's statements in order. Once one fails the rest are refused (the transaction is
        // aborted), so the first failure is the one thrown; the COMMIT waits for them all.
        return inTransaction(
          client,
          () => firstFailure(ordered.map((text) => client.query(text))),
          signal,
          false,
        );
      }),

    endRoles: (roles, signal) =>
      withClient(async (client) => {
        const { rows } = await client.query<{ rolname: string; member: boolean }>(
          "SELECT rolname, pg_has_role(current_user, oid, 'USAGE') AS member FROM pg_roles WHERE rolname = ANY($1)",
          [roles.map((r) => r.name)],
        );
        const existing = new Map(rows.map((row) => [row.rolname, row.member]));
        const present = roles.filter((r) => existing.has(r.name));
        if (present.length === 0) return;
        const names = present.map((r) => r.name);

        // First no new logins (committed at once), then end the sessions already open: in the other
        // order a login between the two would survive, and DROP ROLE does not end sessions.
        for (const name of names) await client.query(`ALTER ROLE ${quoteIdent(name)} NOLOGIN`);
        await client.query(
          "SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity WHERE usename = ANY($1)",
          [names, TERMINATE_WAIT_MS],
        );
        const left = await client.query<{ count: number }>(
          "SELECT count(*)::int AS count FROM pg_stat_activity WHERE usename = ANY($1)",
          [names],
        );
        const open = left.rows[0]?.count ?? 0;
        if (open > 0) {
          throw new SqlAdminError(`${open} session(s) did not end within ${TERMINATE_WAIT_MS} ms`, {
            code: "SESSIONS_STILL_OPEN",
            retryable: true,
          });
        }

        await inTransaction(
          client,
          async () => {
            for (const role of present) {
              signal?.throwIfAborted();
              const name = quoteIdent(role.name);
              // DROP ROLE refuses while the role holds privileges ("some objects depend on it"), and
              // creation statements grant some by design. REASSIGN keeps anything the lease created
              // (now owned by the admin); DROP OWNED then only revokes its privileges in this
              // database and on shared objects. Both need the admin to have the role's privileges,
              // which a CREATEROLE admin (not superuser) lacks until it grants itself membership;
              // DROP ROLE removes that membership again, in the same transaction.
              if (existing.get(role.name) === false) await client.query(`GRANT ${name} TO CURRENT_USER`);
              await client.query(`REASSIGN OWNED BY ${name} TO CURRENT_USER`);
              await client.query(`DROP OWNED BY ${name}`);
              for (const statement of role.revocation) await client.query(statement);
            }
          },
          signal,
        );
      }),

    listLeasedRoles: (signal) =>
      withClient(async (client) => {
        signal?.throwIfAborted();
        const { rows } = await client.query<{ rolname: string }>(POSTGRES_LEASED_ROLES, [
          LEASED_ROLE_PATTERN,
        ]);
        return rows.map((row) => row.rolname);
      }),

    passwordForm(signal) {
      if (passwordForm) return passwordForm;
      const reading = withClient(async (client) => {
        signal?.throwIfAborted();
        const { rows } = await client.query<{ encryption: string; iterations: string | null }>(
          "SELECT current_setting('password_encryption') AS encryption, current_setting('scram_iterations', true) AS iterations",
        );
        return postgresPasswordForm(rows[0]?.encryption ?? "", rows[0]?.iterations ?? null);
      });
      passwordForm = reading;
      // A failed read is not kept: the next lease asks again.
      reading.catch(() => {
        if (passwordForm === reading) passwordForm = undefined;
      });
      return reading;
    },

    select: (sql, params, signal) =>
      withClient(async (c) => {
        signal?.throwIfAborted();
        return (await c.query<Record<string, unknown>>(sql, [...params])).rows;
      }),

    ping: (signal) =>
      withClient(async (c) => {
        signal?.throwIfAborted();
        await c.query("SELECT 1");
      }),

    close: () => pool.end(),
  };
}
