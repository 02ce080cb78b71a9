import type { Database, SqlExecutor } from "@leasehold/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvedProdGrant, createHarness, type Harness, willing } from "./test-harness.js";

/**
 * The issue job is on the path from an approval to the requester's credentials (P1 in the
 * benchmarks): each wait on Leasehold's own database before and after the provider call adds to it.
 * This pins how many transactions, statements and waits one approved grant's issue job takes, so a
 * change that adds one is seen.
 *
 * A wait (round trip) starts when a statement is sent while none is awaiting its answer: statements
 * sent together (on one connection, pipelined, or on several) share one wait. Each transaction adds
 * one for its COMMIT, which is sent only after its work has its answers; its BEGIN goes out with its
 * first statement, and what it `send`s without waiting goes out with what follows (database.ts).
 * PGlite answers one statement at a time, but what is sent together is sent together all the same,
 * so it counts what a PostgreSQL server sees.
 */
describe.each(["pglite", "postgres"] as const)(
  "the statements of one approved grant's issue job on Leasehold's database (%s)",
  (dialect) => {
    let h: Harness;
    // `unanswered`: of the statements, those sent in a transaction without waiting for an answer
    // (they go out with what follows, the COMMIT at the latest).
    const counts = { transactions: 0, statements: 0, unanswered: 0, waits: 0 };
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
        if (!inTransaction)
          return counted(sql, false)
            .query(text, params)
            .then(() => undefined);
        counts.statements += 1;
        counts.unanswered += 1;
        return sql.send(text, params);
      },
    });
    const counting = (db: Database): Database => ({
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
    });

    beforeAll(async () => {
      h = await createHarness(dialect, willing, { wrapDatabase: counting });
    });
    afterAll(() => h.close());

    it("are sent in two transactions, and nothing is read between them", async () => {
      const { grant } = await approvedProdGrant(h.broker);
      Object.assign(counts, { transactions: 0, statements: 0, unanswered: 0, waits: 0 });
      expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
      // The count: its lock and update; then its re-seal (unanswered) with the grant's and its
      // request's audit events, the request and its reviews; its COMMIT. The activation: its lock and
      // move; then its re-seal (unanswered) and the audit head; the audit event (unanswered) with its
      // COMMIT.
      expect(counts).toEqual({ transactions: 2, statements: 12, unanswered: 3, waits: 6 });
    });
  },
);
