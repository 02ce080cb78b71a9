import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvedProdGrant, createHarness, type Harness, willing } from "./test-harness.js";
import { statementCounter } from "./test-statement-counter.js";

/**
 * The issue job is on the path from an approval to the requester's credentials (P1 in the
 * benchmarks): each wait on Leasehold's own database before and after the provider call adds to it.
 * This pins how many transactions, statements and waits one approved grant's issue job takes, so a
 * change that adds one is seen.
 * (What the counts mean: test-statement-counter.ts.)
 */
describe.each(["pglite", "postgres"] as const)(
  "the statements of one approved grant's issue job on Leasehold's database (%s)",
  (dialect) => {
    let h: Harness;
    const counter = statementCounter();

    beforeAll(async () => {
      h = await createHarness(dialect, willing, { wrapDatabase: counter.wrap });
    });
    afterAll(() => h.close());

    it("are sent in two transactions, and nothing is read between them", async () => {
      const { grant } = await approvedProdGrant(h.broker);
      counter.reset();
      expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
      // The count: its lock and update; then its re-seal (unanswered) with the grant's and its
      // request's audit events, the request and its reviews; its COMMIT. The activation: its lock and
      // move; then its re-seal (unanswered) and the audit head; the audit event (unanswered) with its
      // COMMIT.
      expect(counter.counts).toEqual({ transactions: 2, statements: 12, unanswered: 3, waits: 6 });
    });
  },
);
