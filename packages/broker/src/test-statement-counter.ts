import type { Database, SqlExecutor } from "@leasehold/db";

/**
 * What a use case sends to Leasehold's own database, for the tests that pin it (each statement and
 * each wait on the hot paths adds to what a caller waits: P1 and P2 in the benchmarks).
 * - `unanswered`: of the statements, those sent in a transaction without waiting for an answer (they
 *   go out with what follows, the COMMIT at the latest: database.ts's `send`).
 * - `waits`: round trips. One starts when a statement is sent while none is awaiting its answer, so
 *   statements sent together (pipelined on one connection, or on several) share one; each transaction
 *   adds one for its COMMIT, sent once its work has its answers (its BEGIN goes out with its first
 *   statement). PGlite answers one statement at a time, but what is sent together is sent together
 *   all the same, so this counts what a PostgreSQL server sees.
 */
export type StatementCounts = { transactions: number; statements: number; unanswered: number; waits: number };

export type StatementCounter = {
  /** The harness's `wrapDatabase`. */
  readonly wrap: (db: Database) => Database;
  /** Counts from zero again. */
  reset(): void;
  readonly counts: Readonly<StatementCounts>;
};

export function statementCounter(): StatementCounter {
  const counts: StatementCounts = { transactions: 0, statements: 0, unanswered: 0, waits: 0 };
  let inFlight = 0;
  const counted = (sql: SqlExecutor, inTransaction: boolean): SqlExecutor => ({
    ...sql,
    query: async (text, params, name) => {
      counts.statements += 1;
      if (inFlight === 0) counts.waits += 1;
      inFlight += 1;
      try {
        return await sql.query(text, params, name);
      } finally {
        inFlight -= 1;
      }
    },
    send: async (text, params) => {
      // Outside a transaction a sent statement is awaited like any other.
      if (!inTransaction)
        return counted(sql, false)
          .query(text, params)
          .then(() => undefined);
      counts.statements += 1;
      counts.unanswered += 1;
      return sql.send(text, params);
    },
  });
  return {
    counts,
    reset: () => Object.assign(counts, { transactions: 0, statements: 0, unanswered: 0, waits: 0 }),
    wrap: (db) => ({
      ...db,
      ...counted(db, false),
      transaction: (work) => {
        counts.transactions += 1;
        return db.transaction((tx) =>
          work(counted(tx, true)).then((result) => {
            counts.waits += 1; // its COMMIT
            return result;
          }),
        );
      },
    }),
  };
}
