import type { Socket } from "node:net";
import type { SqlLocation } from "./sql-credentials.js";
import type { SqlEngine } from "./sql-schemas.js";
import type { PasswordForm } from "./sql-stored-password.js";

/*
 * The contract between the admin pools and the engines (postgres-admin.ts, mysql-admin.ts). It lives
 * apart from sql-admin-pool.ts, which opens the engines, so that no engine imports the module that
 * imports it.
 */

/** A role to end, with its revocation statements already rendered. */
export type RoleToEnd = { readonly name: string; readonly revocation: readonly string[] };

/**
 * One target's admin connections, with the engine's own way of doing each step. Methods throw the
 * driver's errors (or SqlAdminError); the provider turns them into UpstreamErrors.
 */
export type SqlAdmin = {
  readonly engine: SqlEngine;
  readonly location: SqlLocation;
  /** The admin URL and its password (raw and decoded), to blank out of any message. */
  readonly secrets: readonly string[];
  /**
   * Runs the statements in order. PostgreSQL: in one transaction (its DDL is transactional), so a
   * failure leaves nothing. MySQL: each commits by itself, so the caller must undo a failed run.
   */
  run(statements: readonly string[], signal?: AbortSignal): Promise<void>;
  /**
   * Ends roles: no new logins, open sessions terminated, then the revocation statements. Idempotent:
   * a role that is already gone is fine.
   */
  endRoles(roles: readonly RoleToEnd[], signal?: AbortSignal): Promise<void>;
  /**
   * Names of roles Leasehold's naming marks as its own (`lh_<16 hex>_a<n>`) that belong to this
   * target's database: they hold a privilege or own something in it, or have a session open on it.
   * Roles are server-wide, so a role with nothing in this database is not listed: it cannot be told
   * apart from another database's (or another installation's) role on the same server.
   */
  listLeasedRoles(signal?: AbortSignal): Promise<string[]>;
  /**
   * What to send for a leased role's password (sql-stored-password.ts), from the server's version and
   * settings; read once per pool, again after a failure.
   */
  passwordForm(signal?: AbortSignal): Promise<PasswordForm>;
  /**
   * Runs one query that changes nothing, with bound parameters (`$1` on PostgreSQL, `?` on MySQL), and
   * returns its rows: a rotation's look-ups of the users it rotates.
   */
  select(sql: string, params: readonly unknown[], signal?: AbortSignal): Promise<Record<string, unknown>[]>;
  /** A cheap round trip (`SELECT 1`) proving the admin connection works. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
};

/** How long an admin statement may wait, in milliseconds. */
export type SqlAdminTimeouts = {
  /**
   * For a lock another session holds: PostgreSQL's lock_timeout. MySQL has no use for it: MariaDB
   * opens the grant tables ignoring lock_wait_timeout, so `statementMs` bounds those waits there.
   */
  readonly lockMs: number;
  /**
   * For one statement: PostgreSQL's statement_timeout (the server's); on MySQL the client's own, which
   * also ends the wait on a connection that stopped answering.
   */
  readonly statementMs: number;
};

/**
 * A job waiting on the database holds a worker's slot and leaves its grant without a recorded reason,
 * so waits end in a retryable error instead: the job's retries and the sweep try again later.
 */
export const SQL_ADMIN_TIMEOUTS: SqlAdminTimeouts = { lockMs: 10_000, statementMs: 30_000 };

/** What an engine's admin is opened with. */
export type SqlAdminConnection = {
  readonly adminUrl: string;
  readonly location: SqlLocation;
  readonly secrets: readonly string[];
  readonly maxConnections: number;
  /** Default: SQL_ADMIN_TIMEOUTS. */
  readonly timeouts?: SqlAdminTimeouts;
  /** PostgreSQL only: a new socket for each connection (node-postgres's `stream`). Default: its own. */
  readonly postgresSocket?: () => Socket;
};
