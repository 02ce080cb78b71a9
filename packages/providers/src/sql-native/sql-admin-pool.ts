import { openMysqlAdmin } from "./mysql-admin.js";
import { openPostgresAdmin } from "./postgres-admin.js";
import type { SqlAdmin, SqlAdminConnection } from "./sql-admin.js";
import type { SqlLocation } from "./sql-credentials.js";
import { SqlAdminError } from "./sql-errors.js";
import type { SqlEngine, SqlTarget } from "./sql-schemas.js";

export type SqlAdminPoolOptions = Pick<SqlAdminConnection, "postgresSocket"> & {
  /** Connections per target; every lease shares them. */
  readonly maxConnections: number;
};

export type SqlAdminPools = {
  /** The target's admin, created on first use and reused after. */
  forTarget(target: SqlTarget, adminUrl: string): SqlAdmin;
  /** Ends every pool; the pools cannot be used afterwards. */
  close(): Promise<void>;
};

/** One admin pool per target, so leases never open connections of their own. */
export function createSqlAdminPools(options: SqlAdminPoolOptions): SqlAdminPools {
  const pools = new Map<string, { key: string; admin: SqlAdmin }>();
  let closed = false;
  return {
    forTarget(target, adminUrl) {
      if (closed) {
        // Shutting down: another worker will pick the job up.
        throw new SqlAdminError("the SQL provider is closed", { code: "CLOSED", retryable: true });
      }
      const key = `${target.sql.engine} ${adminUrl}`;
      const existing = pools.get(target.id);
      if (existing?.key === key) return existing.admin;
      // A changed URL means a rotated admin password: new work uses it, the old pool winds down.
      if (existing) void existing.admin.close().catch(() => undefined);
      const connection = {
        adminUrl,
        location: parseAdminUrl(target.sql.engine, adminUrl),
        secrets: adminUrlSecrets(adminUrl),
        maxConnections: options.maxConnections,
        ...(options.postgresSocket ? { postgresSocket: options.postgresSocket } : {}),
      };
      const admin =
        target.sql.engine === "postgres" ? openPostgresAdmin(connection) : openMysqlAdmin(connection);
      pools.set(target.id, { key, admin });
      return admin;
    },
    async close() {
      closed = true;
      const admins = [...pools.values()].map((p) => p.admin);
      pools.clear();
      await Promise.all(admins.map((admin) => admin.close()));
    },
  };
}

const SCHEMES: Record<SqlEngine, readonly string[]> = {
  postgres: ["postgres:", "postgresql:"],
  mysql: ["mysql:", "mariadb:"],
};
const DEFAULT_PORT: Record<SqlEngine, number> = { postgres: 5432, mysql: 3306 };

/** Host, port and database from an admin URL. Errors never repeat the URL: it holds a password. */
export function parseAdminUrl(engine: SqlEngine, adminUrl: string): SqlLocation {
  const invalid = (why: string) =>
    new SqlAdminError(`the admin URL ${why}`, { code: "INVALID_ADMIN_URL", retryable: false });
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    throw invalid(`is not a URL like ${SCHEMES[engine][0]}//user:password@host:port/database`);
  }
  if (!SCHEMES[engine].includes(url.protocol)) {
    throw invalid(`starts with ${url.protocol}, but the target's engine is ${engine}`);
  }
  const database = safeDecode(url.pathname.replace(/^\//, ""));
  // PostgreSQL grants are made in one database, and the credential must connect to that same one.
  if (engine === "postgres" && database === "") throw invalid("names no database");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || url.searchParams.get("host") || "localhost";
  return {
    host,
    port: url.port === "" ? DEFAULT_PORT[engine] : Number(url.port),
    database,
    sslmode: url.searchParams.get("sslmode") ?? undefined,
  };
}

/** The admin URL and its password, in every spelling a driver might echo. */
export function adminUrlSecrets(adminUrl: string): string[] {
  const secrets = [adminUrl];
  try {
    const password = new URL(adminUrl).password;
    if (password) secrets.push(password, safeDecode(password));
  } catch {
    // Not a URL: parseAdminUrl refuses it before anything connects.
  }
  return secrets;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
