import { UpstreamError } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { isDuplicateRoleError, redactSecrets, SqlAdminError, sqlUpstreamError } from "./sql-errors.js";

// Shaped like the drivers' own errors (node-postgres DatabaseError, mysql2 server and network errors).
const pgError = (code: string, message = "failed") =>
  Object.assign(new Error(message), { severity: "ERROR", code });
const mysqlError = (errno: number, code: string, sqlMessage = "failed") =>
  Object.assign(new Error(sqlMessage), { errno, code, sqlState: "HY000", sqlMessage, sql: "CREATE USER …" });
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.5:5432`), { code });

const context = { targetId: "orders-readonly", engine: "postgres" as const, secrets: [] };

describe("SQL error classification", () => {
  it.each([
    ["08006 connection_failure", pgError("08006"), true],
    ["57P01 admin_shutdown", pgError("57P01"), true],
    ["57P03 cannot_connect_now", pgError("57P03"), true],
    ["53300 too_many_connections", pgError("53300"), true],
    ["55P03 lock_not_available", pgError("55P03"), true],
    ["XX000 tuple concurrently updated", pgError("XX000", "tuple concurrently updated"), true],
    ["XX000 other internal error", pgError("XX000", "cache lookup failed"), false],
    ["42601 syntax_error", pgError("42601"), false],
    ["42501 insufficient_privilege", pgError("42501"), false],
    ["28P01 invalid_password", pgError("28P01"), false],
    ["MySQL ER_CON_COUNT_ERROR", mysqlError(1040, "ER_CON_COUNT_ERROR"), true],
    ["MySQL ER_LOCK_DEADLOCK", mysqlError(1213, "ER_LOCK_DEADLOCK"), true],
    ["MySQL ER_PARSE_ERROR", mysqlError(1064, "ER_PARSE_ERROR"), false],
    ["MySQL ER_ACCESS_DENIED_ERROR", mysqlError(1045, "ER_ACCESS_DENIED_ERROR"), false],
    ["MySQL ER_SPECIFIC_ACCESS_DENIED_ERROR", mysqlError(1227, "ER_SPECIFIC_ACCESS_DENIED_ERROR"), false],
    ["ECONNREFUSED", networkError("ECONNREFUSED"), true],
    ["ETIMEDOUT", networkError("ETIMEDOUT"), true],
    ["ECONNRESET", networkError("ECONNRESET"), true],
    [
      "PROTOCOL_CONNECTION_LOST",
      Object.assign(networkError("PROTOCOL_CONNECTION_LOST"), { fatal: true }),
      true,
    ],
    ["pg's connection timeout (no code)", new Error("timeout exceeded when trying to connect"), true],
    ["a refused TLS certificate", networkError("DEPTH_ZERO_SELF_SIGNED_CERT"), false],
    [
      "an admin check that must be fixed",
      new SqlAdminError("no PROCESS", { code: "X", retryable: false }),
      false,
    ],
  ])("%s → retryable %s", (_name, error, retryable) => {
    const upstream = sqlUpstreamError(error, "creating the credential", context);
    expect(upstream).toBeInstanceOf(UpstreamError);
    expect(upstream.retryable).toBe(retryable);
  });

  it("a connect that failed on every address (AggregateError) is reported by its inner code", () => {
    const error = new AggregateError([networkError("ECONNREFUSED"), networkError("ECONNREFUSED")], "");
    expect(sqlUpstreamError(error, "x", context)).toMatchObject({
      retryable: true,
      upstreamCode: "ECONNREFUSED",
    });
  });

  it("names the target, the step and the code, and keeps nothing of the driver error but its message", () => {
    const error = sqlUpstreamError(
      mysqlError(1146, "ER_NO_SUCH_TABLE", "Table 'd.t' doesn't exist"),
      "creating the credential",
      {
        ...context,
        engine: "mysql",
      },
    );
    expect(error.message).toBe(
      "sql target orders-readonly (mysql): creating the credential failed: MySQL ER_NO_SUCH_TABLE (1146) (Table 'd.t' doesn't exist)",
    );
    expect(error.upstreamCode).toBe("ER_NO_SUCH_TABLE");
    expect(error.cause).toBeUndefined(); // mysql2 errors carry the statement, password included, in `sql`
  });

  it("recognizes an existing role on both engines", () => {
    expect(isDuplicateRoleError(pgError("42710"))).toBe(true);
    expect(isDuplicateRoleError(mysqlError(1396, "ER_CANNOT_USER"))).toBe(true);
    expect(isDuplicateRoleError(pgError("42P01"))).toBe(false);
  });
});

describe("redacting secrets from driver messages", () => {
  const password = "Zq8RmT2vXk9LpW4nHc7YdJ3bFs6GtA1e";

  it("blanks a whole password, and the start of one cut short by the driver", () => {
    expect(redactSecrets(`invalid input syntax for type integer: "${password}"`, [password])).toBe(
      `invalid input syntax for type integer: "***"`,
    );
    const cut = `near 'BOGUS 111 BY '${password.slice(0, 13)}...' at line 1`;
    expect(redactSecrets(cut, [password])).toBe("near 'BOGUS 111 BY '***...' at line 1");
  });

  it("blanks the admin URL and its password, and leaves ordinary words alone", () => {
    const adminUrl = "postgres://admin:p%40ss@db/orders";
    const text = `could not connect with ${adminUrl} as admin (p@ss) to orders`;
    expect(redactSecrets(text, [adminUrl, "p%40ss", "p@ss", password])).toBe(
      "could not connect with *** as admin (***) to orders",
    );
  });
});
