import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersServiceAccount, willing } from "./test-harness.js";
import { statementCounter } from "./test-statement-counter.js";

/**
 * A lease is on the hot path of every workload that starts (P2 in the benchmarks): each commit and
 * each statement on Leasehold's own database adds to the caller's wait. This pins how many a lease
 * takes, so a change that adds one is seen (the counts: test-statement-counter.ts).
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
  const counter = statementCounter();

  beforeAll(async () => {
    h = await createHarness("pglite", willing, { targets: [leaseTarget], wrapDatabase: counter.wrap });
  });
  afterAll(() => h.close());

  it("are sent in two transactions", async () => {
    counter.reset();
    const { credential } = await h.broker.leases.create(app, { targetId: leaseTarget.id });
    expect(credential.secret.kind).toBe("aws-session");
    // The grant: its caps' locks and counts; its insert (unanswered) with the audit head; the audit
    // event (unanswered) with its COMMIT. The activation: its lock and move; its re-seal (unanswered)
    // with the audit head; the audit events (unanswered) with its COMMIT.
    expect(counter.counts).toEqual({ transactions: 2, statements: 12, unanswered: 4, waits: 6 });
  });
});
