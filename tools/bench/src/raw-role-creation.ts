import { randomBytes } from "node:crypto";
import {
  generateSqlPassword,
  POSTGRES_ACL_LOCK,
  passwordForTemplates,
  SCRAM_ITERATIONS,
  sqlExpiration,
} from "@leasehold/providers";
import { renderSqlTemplate } from "@leasehold/providers/schemas";
import pg from "pg";
import { CREATION_STATEMENTS } from "./sql-lease-fixture.js";

/**
 * P2's baseline: the target's creation statements issued straight to PostgreSQL with `pg`, the way a
 * careful script would (and the way Vault does: the plaintext password, hashed by the server), in the
 * transaction shape of Leasehold's native engine (postgres-admin.ts): one transaction per role that
 * first takes a transaction-scoped advisory lock. Without that lock, concurrent GRANTs on one table
 * fail with `XX000 tuple concurrently updated` (measured here: about three in four at 4 connections),
 * so a lock-free loop would count failures, not credentials.
 */
export type RawRoleCreator = {
  /** Creates one role as the creation statements say; resolves once committed, with how long the lock was held. */
  createRole(): Promise<{ lockHeldMs: number }>;
  /** The names tried since the last call, for dropping; forgets them. */
  takeNames(): string[];
  close(): Promise<void>;
};

/**
 * `plaintext`: the baseline, lock first, then CREATE ROLE with the password. `leasehold`: what
 * Leasehold's engine sends, in its order (postgres-admin.ts `run`): the SCRAM verifier computed the
 * same way (passwordForTemplates) before the transaction, CREATE ROLE, then the lock, then the GRANT.
 */
export type RawPassword = "plaintext" | "leasehold";

/** Opens a pool of `connections` admin connections, as many as the benchmark keeps in flight. */
export function openRawRoleCreator(
  adminUrl: string,
  connections: number,
  mode: RawPassword = "plaintext",
): RawRoleCreator {
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
  const form =
    mode === "plaintext"
      ? ({ kind: "plaintext" } as const)
      : ({ kind: "scram-sha-256", iterations: SCRAM_ITERATIONS } as const);

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
      const sent = await passwordForTemplates(form, CREATION_STATEMENTS, generateSqlPassword());
      // Like a lease: the credential lives an hour.
      const values = {
        name,
        password: sent.value,
        expiration: sqlExpiration(new Date(Date.now() + 3600_000)),
      };
      const statements = sent.templates.map((template) => renderSqlTemplate(template, values));
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        // Leasehold's engine creates the role before it takes the lock (the statement is first here).
        const [create, ...rest] = mode === "plaintext" ? ["", ...statements] : statements;
        if (create) await client.query(create);
        await client.query(POSTGRES_ACL_LOCK);
        // From the lock's grant (as the client hears it) to the COMMIT's acknowledgement.
        const locked = performance.now();
        for (const statement of rest) await client.query(statement);
        await client.query("COMMIT");
        return { lockHeldMs: performance.now() - locked };
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
