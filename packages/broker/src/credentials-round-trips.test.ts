import type { Database, SqlExecutor } from "@leasehold/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvedProdGrant, createHarness, type Harness, requester, willing } from "./test-harness.js";

/**
 * A credential read ends the wait from approval to credentials in hand (P1 in the benchmarks): each
 * transaction, statement and wait for an answer on Leasehold's own database adds to it. This pins how
 * many one read of an active grant takes, so a change that adds one is seen.
 */
describe("the statements of one credential read on Leasehold's database", () => {
  let h: Harness;
  // `unanswered`: of the statements, those sent without waiting for an answer (they go out with the
  // COMMIT). `waits`: statements whose answer is awaited, sent while none was outstanding, so each one
  // after the first waited for the answer to the one before (statements pipelined together count once).
  const counts = { transactions: 0, statements: 0, unanswered: 0, waits: 0 };
  let outstanding = 0;
  const counted = (sql: SqlExecutor): SqlExecutor => ({
    ...sql,
    query: async (text, params, name) => {
      counts.statements += 1;
      if (outstanding === 0) counts.waits += 1;
      outstanding += 1;
      try {
        return await sql.query(text, params, name);
      } finally {
        outstanding -= 1;
      }
    },
    send: (text, params) => {
      counts.statements += 1;
      counts.unanswered += 1;
      return sql.send(text, params);
    },
  });
  const counting = (db: Database): Database => ({
    ...db,
    ...counted(db),
    transaction: (work) => {
      counts.transactions += 1;
      return db.transaction((tx) => work(counted(tx)));
    },
  });

  beforeAll(async () => {
    h = await createHarness("pglite", willing, { wrapDatabase: counting });
  });
  afterAll(() => h.close());

  it("are sent in one transaction", async () => {
    const { grant } = await approvedProdGrant(h.broker);
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    Object.assign(counts, { transactions: 0, statements: 0, unanswered: 0, waits: 0 });
    const delivered = await h.broker.grants.credentials(requester, grant.id);
    expect(delivered.secret.kind).toBe("aws-session");
    expect(counts).toEqual({ transactions: 1, statements: 3, unanswered: 1, waits: 2 });
  });
});
