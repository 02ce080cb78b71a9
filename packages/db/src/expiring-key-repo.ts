import type { SqlExecutor } from "./database.js";

/** Expired rows each write deletes besides its own: more than one write adds, so the table stays bounded. */
const SWEEP_BATCH = 10;

/**
 * Deletes up to SWEEP_BATCH expired rows other than `$1` (the row the same statement writes: one
 * statement must not touch a row twice). SKIP LOCKED: concurrent writers sweep different rows and
 * never wait for each other here.
 */
const SWEEP = `swept AS (
  DELETE FROM expiring_keys WHERE key IN (
    SELECT key FROM expiring_keys WHERE expires_at <= now() AND key <> $1
    ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED))`;

export type ExpiringKeyRepo = ReturnType<typeof expiringKeyRepo>;

/**
 * Keys with an expiry in PostgreSQL: what the Redis backend does with SET NX PX and INCR + PEXPIRE,
 * for the PostgreSQL-only mode. Each operation is one statement, atomic across every process on the
 * database (INSERT … ON CONFLICT takes the row's lock). Expiry is judged by the database's clock, the
 * one clock every replica shares, as Redis's is. An expired row counts as absent and is replaced in
 * place; each write also deletes a few other expired rows, so nothing grows without bound and no
 * timer runs.
 */
export function expiringKeyRepo(sql: SqlExecutor) {
  return {
    /**
     * Claims `key` for `ttlMs`: true when it was free (never claimed, or its claim expired), false
     * while an earlier claim holds. Of concurrent claims of one free key exactly one gets true.
     */
    async claim(key: string, ttlMs: number): Promise<boolean> {
      const rows = await sql.query(
        `WITH ${SWEEP}
         INSERT INTO expiring_keys AS k (key, count, expires_at)
         VALUES ($1, 1, now() + $2::float8 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET count = 1, expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= now()
         RETURNING key`,
        [key, ttlMs],
      );
      return rows.length === 1;
    },

    /**
     * Counts one more hit of `key` in its fixed window: the first hit, or the first after the window
     * ended, opens a window of `windowMs`. Returns the hits counted in the open window, this one
     * included, and the milliseconds until that window ends.
     */
    async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
      const [row] = await sql.query<{ count: number; reset_in_ms: number }>(
        `WITH ${SWEEP}
         INSERT INTO expiring_keys AS k (key, count, expires_at)
         VALUES ($1, 1, now() + $2::float8 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN k.expires_at <= now() THEN 1 ELSE k.count + 1 END,
           expires_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.expires_at ELSE k.expires_at END
         RETURNING count, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS reset_in_ms`,
        [key, windowMs],
      );
      if (!row) throw new Error("the database returned no count");
      return { count: row.count, resetInMs: row.reset_in_ms };
    },
  };
}
