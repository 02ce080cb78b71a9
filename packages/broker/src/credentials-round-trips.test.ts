import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvedProdGrant, createHarness, type Harness, requester, willing } from "./test-harness.js";
import { statementCounter } from "./test-statement-counter.js";

/**
 * A credential read ends the wait from approval to credentials in hand (P1 in the benchmarks): each
 * transaction, statement and wait for an answer on Leasehold's own database adds to it. This pins how
 * many one read of an active grant takes, so a change that adds one is seen (the counts:
 * test-statement-counter.ts).
 */
describe("the statements of one credential read on Leasehold's database", () => {
  let h: Harness;
  const counter = statementCounter();

  beforeAll(async () => {
    h = await createHarness("pglite", willing, { wrapDatabase: counter.wrap });
  });
  afterAll(() => h.close());

  it("are sent in one transaction", async () => {
    const { grant } = await approvedProdGrant(h.broker);
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    counter.reset();
    const delivered = await h.broker.grants.credentials(requester, grant.id);
    expect(delivered.secret.kind).toBe("aws-session");
    // The grant's locking read (with BEGIN); the audit head; the audit event (unanswered) with the COMMIT.
    expect(counter.counts).toEqual({ transactions: 1, statements: 3, unanswered: 1, waits: 3 });
  });
});
