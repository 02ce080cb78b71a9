import { UpstreamError } from "@leasehold/domain";
import type { SqlEngine } from "./sql-schemas.js";

/** A failure the admin layer detects itself (not the driver), with its own verdict on retrying. */
export class SqlAdminError extends Error {
  override readonly name = "SqlAdminError";
  readonly code: string;
  readonly retryable: boolean;
  constructor(message: string, options: { code: string; retryable: boolean }) {
    super(message);
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/**
 * PostgreSQL SQLSTATEs that trying again can fix: the connection (class 08), the server running out
 * of something (class 53, e.g. 53300 too_many_connections), shutdown and restart (57P01–57P03),
 * timeouts and lock waits (57014, 55P03), and transaction conflicts (40001, 40P01). Everything else
 * the server answers (syntax 42601, permission 42501, missing table 42P01, bad password 28P01) is a
 * refusal that will repeat.
 */
const PG_RETRYABLE_CLASSES = new Set(["08", "53"]);
const PG_RETRYABLE_STATES = new Set(["57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01"]);

/** MySQL/MariaDB error numbers that trying again can fix. */
const MYSQL_RETRYABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1053, // ER_SERVER_SHUTDOWN
  1158, // ER_NET_READ_ERROR
  1159, // ER_NET_READ_INTERRUPTED
  1160, // ER_NET_ERROR_ON_WRITE
  1161, // ER_NET_WRITE_INTERRUPTED
  1317, // ER_QUERY_INTERRUPTED
  1927, // MariaDB ER_CONNECTION_KILLED
]);

type DriverError = {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  sqlMessage?: unknown;
  severity?: unknown;
  message?: unknown;
  errors?: unknown;
};

type Classified = { code: string; label: string; detail: string; retryable: boolean };

/** What the server (or the network) said, without deciding what to tell anyone yet. */
function classify(error: unknown): Classified {
  const e = (typeof error === "object" && error !== null ? error : {}) as DriverError;
  const message = typeof e.message === "string" ? e.message : String(error);

  if (error instanceof SqlAdminError) {
    return { code: error.code, label: error.code, detail: message, retryable: error.retryable };
  }
  // The worker gave up on the job (its abort signal); another attempt may well succeed.
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return { code: "ABORTED", label: "ABORTED", detail: message, retryable: true };
  }
  // node-postgres: a server error carries a severity and a five-character SQLSTATE.
  if (typeof e.severity === "string" && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
    const state = e.code;
    const retryable =
      PG_RETRYABLE_CLASSES.has(state.slice(0, 2)) ||
      PG_RETRYABLE_STATES.has(state) ||
      // Two transactions changing the same ACL at once (another tool's GRANT racing ours).
      (state === "XX000" && /tuple concurrently updated/.test(message));
    return { code: state, label: `SQLSTATE ${state}`, detail: message, retryable };
  }
  // mysql2: a server error carries an errno and a SQLSTATE; `code` is its ER_ name when mysql2 knows it.
  if (typeof e.errno === "number" && e.errno > 0 && typeof e.sqlState === "string") {
    const code = typeof e.code === "string" ? e.code : `MYSQL_${e.errno}`;
    const detail = typeof e.sqlMessage === "string" ? e.sqlMessage : message;
    return {
      code,
      label: `MySQL ${code} (${e.errno})`,
      detail,
      retryable: MYSQL_RETRYABLE_ERRNOS.has(e.errno),
    };
  }
  // No answer from the server: refused, reset, timed out, connection lost (ECONNREFUSED, ETIMEDOUT,
  // ECONNRESET, PROTOCOL_CONNECTION_LOST, pg's "Connection terminated"). Trying again can fix all of
  // those, except a TLS certificate the client refuses, which stays refused until someone fixes it.
  const code = networkCode(e) ?? "NO_ANSWER";
  return { code, label: code, detail: message, retryable: !/CERT|TLS|SSL/.test(code) };
}

/** The error code of a network failure; Node reports a failed multi-address connect as an AggregateError. */
function networkCode(e: DriverError): string | undefined {
  if (typeof e.code === "string") return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = (inner as DriverError | null)?.code;
      if (typeof code === "string") return code;
    }
  }
  return undefined;
}

/** True when the error came from the server's SQL layer (the connection itself is still usable). */
export const isServerError = (error: unknown): boolean => {
  const e = (typeof error === "object" && error !== null ? error : {}) as DriverError;
  return typeof e.severity === "string" || typeof e.sqlState === "string";
};

/** The role or user already exists: PostgreSQL 42710 duplicate_object, MySQL 1396 ER_CANNOT_USER. */
export function isDuplicateRoleError(error: unknown): boolean {
  const e = (typeof error === "object" && error !== null ? error : {}) as DriverError;
  return (typeof e.severity === "string" && e.code === "42710") || e.errno === 1396;
}

/**
 * Blanks secrets in driver text. Drivers echo statement text in their messages (PostgreSQL
 * `invalid input syntax …: "<value>"`, MySQL `… near '<up to 80 characters>'`), and MySQL cuts the
 * echo short, so a generated password may appear whole or as a prefix. Whole secrets are replaced
 * wherever they appear; for generated passwords (alphanumeric, always between quotes in a template)
 * any alphanumeric run of four or more characters that is part of one is replaced too.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) if (secret.length > 0) clean = clean.split(secret).join("***");
  const generated = secrets.filter((s) => /^[A-Za-z0-9]{16,}$/.test(s));
  if (generated.length === 0) return clean;
  return clean.replace(/[A-Za-z0-9]{4,}/g, (run) => (generated.some((s) => s.includes(run)) ? "***" : run));
}

export type SqlErrorContext = {
  readonly targetId: string;
  readonly engine: SqlEngine;
  /** Every secret the driver might echo: the generated password, the admin URL and its password. */
  readonly secrets: readonly string[];
};

/**
 * A driver error as an UpstreamError naming the target and the SQLSTATE or MySQL code. The driver's
 * own message is kept (redacted, shortened) because it says what to fix; the driver error itself is
 * not attached as `cause`, because mysql2 errors carry the full statement (with the password) in
 * `sql`, and loggers serialize causes.
 */
export function sqlUpstreamError(error: unknown, action: string, context: SqlErrorContext): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const { code, label, detail, retryable } = classify(error);
  const shown = redactSecrets(detail, context.secrets).slice(0, 300);
  return new UpstreamError(
    `sql target ${context.targetId} (${context.engine}): ${action} failed: ${label}${shown ? ` (${shown})` : ""}`,
    { retryable, upstreamCode: code },
  );
}
