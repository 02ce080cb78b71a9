import { type GrantUseCases, MAX_EXPIRY_BATCH } from "@leasehold/broker";
import { defineProcessor, type Processor } from "./job-harness.js";

/** The worker's thin edges for grants: each processor turns a job into one use case call. */
export function grantProcessors(
  grants: Pick<GrantUseCases, "issue" | "expire" | "finishRevoke">,
  options: { concurrency: number },
): Processor[] {
  return [
    defineProcessor({
      queue: "grantIssue",
      concurrency: options.concurrency,
      // The requester is waiting for the credential, and the revoker for the revocation to end.
      startAtOnce: true,
      run: (payload, attempt) => grants.issue(payload.grantId, attempt),
    }),
    defineProcessor({
      queue: "grantExpire",
      // Enough jobs in hand that one batch gathers while the previous one commits (grants.expire
      // gathers the jobs that run at the same moment into one batch).
      concurrency: Math.max(options.concurrency, 2 * MAX_EXPIRY_BATCH),
      run: (payload, attempt) => grants.expire(payload.grantId, attempt),
    }),
    defineProcessor({
      queue: "grantRevoke",
      concurrency: options.concurrency,
      startAtOnce: true,
      run: (payload, attempt) => grants.finishRevoke(payload.grantId, attempt),
    }),
  ];
}
