import { type Broker, MAX_EXPIRY_BATCH } from "@leasehold/broker";
import { createExpiryBatcher } from "./expiry-batcher.js";
import { defineProcessor, type Processor } from "./job-harness.js";

/** The worker's thin edges for grants: each processor turns a job into one use case call. */
export function grantProcessors(broker: Broker, options: { concurrency: number }): Processor[] {
  const expiries = createExpiryBatcher((items) =>
    broker.grantEnd.expireMany(items, { concurrency: options.concurrency }),
  );
  return [
    defineProcessor({
      queue: "grantIssue",
      concurrency: options.concurrency,
      run: (payload, attempt) => broker.issue.issue(payload.grantId, attempt),
    }),
    defineProcessor({
      queue: "grantExpire",
      // Enough jobs in hand that one batch gathers while the previous one commits.
      concurrency: Math.max(options.concurrency, 2 * MAX_EXPIRY_BATCH),
      run: (payload, attempt) => expiries.expire(payload.grantId, attempt),
    }),
    defineProcessor({
      queue: "grantRevoke",
      concurrency: options.concurrency,
      run: (payload, attempt) => broker.grantEnd.revoke(payload.grantId, attempt),
    }),
  ];
}
