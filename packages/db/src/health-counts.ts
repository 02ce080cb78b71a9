import type { SqlExecutor } from "./database.js";

/** Live rows, counted for the metrics' gauges. */
export type HealthCounts = {
  /** Grants that may still work or are on their way: issuing, active, revoking, revocation_failed. */
  readonly grants: readonly { readonly targetId: string; readonly state: string; readonly count: number }[];
  /** Requests awaiting a decision. */
  readonly requests: readonly { readonly state: string; readonly count: number }[];
  readonly rotations: readonly {
    readonly rotationId: string;
    readonly lastSuccessAt: Date | null;
    readonly latestState: string | null;
  }[];
};

/**
 * Two queries for a whole scrape. Only live states are counted, each through a partial index of its
 * live rows (migrations 0001 and 0016): request, grant and run history is never deleted, so counting
 * ended rows would scan a table that only grows (their rates are in the counters instead).
 */
export async function readHealthCounts(
  sql: SqlExecutor,
  rotationIds: readonly string[],
): Promise<HealthCounts> {
  const [rows, rotations] = await Promise.all([
    sql.query<{ what: string; key: string; state: string; n: number }>(
      `SELECT 'grant' AS what, target_id AS key, state, count(*)::int AS n FROM grants
         WHERE state IN ('issuing', 'active', 'revoking', 'revocation_failed') GROUP BY target_id, state
       UNION ALL
       SELECT 'request', '', state, count(*)::int FROM access_requests WHERE state = 'pending' GROUP BY state`,
    ),
    rotationIds.length === 0
      ? Promise.resolve([])
      : sql.query<{ id: string; last_success: Date | null; latest: string | null }>(
          `SELECT r.id,
             (SELECT finished_at FROM rotation_runs WHERE rotation_id = r.id AND state = 'succeeded'
               ORDER BY finished_at DESC LIMIT 1) AS last_success,
             (SELECT state FROM rotation_runs WHERE rotation_id = r.id ORDER BY started_at DESC LIMIT 1) AS latest
           FROM unnest($1::text[]) AS r(id)`,
          [rotationIds],
        ),
  ]);
  return {
    grants: rows
      .filter((r) => r.what === "grant")
      .map((r) => ({ targetId: r.key, state: r.state, count: Number(r.n) })),
    requests: rows.filter((r) => r.what === "request").map((r) => ({ state: r.state, count: Number(r.n) })),
    rotations: rotations.map((r) => ({
      rotationId: r.id,
      lastSuccessAt: r.last_success === null ? null : new Date(r.last_success),
      latestState: r.latest,
    })),
  };
}
