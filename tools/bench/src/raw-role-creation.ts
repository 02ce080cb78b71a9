import { randomBytes } from "node:crypto";
import { generateSqlPassword, POSTGRES_ACL_LOCK, sqlExpiration } from "@leasehold/providers";
import { renderSqlTemplate } from "@leasehold/providers/schemas";
import pg from "pg";
import { CREATION_STATEMENTS } from "./sql-lease-fixture.js";

/**
 * P2's baseline: the target's creation statements issued straight to PostgreSQL with `pg`, the way a
 * careful script would, and the way Leasehold's native engine does (postgres-admin.ts): one
 * transaction per role that first takes a transaction-scoped advisory lock. Without that lock,
 * concurrent GRANTs on one table fail with `XX000 tuple concurrently updated` (measured here: about
 * three in four at 4 connections), so a lock-free loop would count failures, not credentials.
 */
export type RawRoleCreator = {
  /** Creates one role as the creation statements say; resolves once committed. */
  createRole(): Promise<void>;
  /** The names tried since the last call, for dropping; forgets them. */
  takeNames(): string[];
  close(): Promise<void>;
};

/** Opens a pool of `connections` admin connections, as many as the benchmark keeps in flight. */
export function openRawRoleCreator(adminUrl: string, connections: number): RawRoleCreator {
  // The same pool settings as the native engine's admin pool.
  const pool = new pg.Pool({
    connectionString: adminUrl,
    max: connections,
    statement_timeout: 30_000,
    lock_timeout: 10_000,
    application_name: "leasehold-bench-raw",
  });
  pool.on("error", () => undefined);
  const run = randomBytes(4).toString("hex");
  let created = 0;
  let names: string[] = [];

  return {
    takeNames() {
      const taken = names;
      names = [];
      return taken;
    },
    async createRole() {
      created += 1;
      const name = `lhb_${run}_${created}`;
      names.push(name);
      // Like a lease: the credential lives an hour.
      const values = {
        name,
        password: generateSqlPassword(),
        expiration: sqlExpiration(new Date(Date.now() + 3600_000)),
      };
      const statements = CREATION_STATEMENTS.map((template) => renderSqlTemplate(template, values));
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(POSTGRES_ACL_LOCK);
        for (const statement of statements) await client.query(statement);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
