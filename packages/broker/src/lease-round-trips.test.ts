import type { Database, SqlExecutor } from "@leasehold/db";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersServiceAccount, willing } from "./test-harness.js";

/**
 * A lease is on the hot path of every workload that starts (P2 in the benchmarks): each commit and
 * each statement on Leasehold's own database adds to the caller's wait. This pins how many a lease
 * takes, so a change that adds one is seen.
 */
const leaseTarget = awsRoleTargetSchema.parse({
  id: "orders-role",
  kind: "aws-role",
  maxDuration: "2h",
  defaultDuration: "15m",
  leases: [{ provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "20m" }],
  aws: { roleArn: "arn:aws:iam::123456789012:role/Orders" },
});
const app = ordersServiceAccount;

describe("the statements of one lease on Leasehold's database", () => {
  let h: Harness;
  // `unanswered`: of the statements, those sent without waiting for an answer (they go out with the COMMIT).
  const counts = { transactions: 0, statements: 0, unanswered: 0 };
  const counted = (sql: SqlExecutor): SqlExecutor => ({
    ...sql,
    query: (text, params, name) => {
      counts.statements += 1;
      return sql.query(text, params, name);
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
    h = await createHarness("pglite", willing, { targets: [leaseTarget], wrapDatabase: counting });
  });
  afterAll(() => h.close());

  it("are sent in two transactions", async () => {
    Object.assign(counts, { transactions: 0, statements: 0, unanswered: 0 });
    const { credential } = await h.broker.leases.create(app, { targetId: leaseTarget.id });
    expect(credential.secret.kind).toBe("aws-session");
    expect(counts).toEqual({ transactions: 2, statements: 12, unanswered: 4 });
  });
});
