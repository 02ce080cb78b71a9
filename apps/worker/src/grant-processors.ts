import {
  type Attempt,
  describeFailure,
  type GrantUseCases,
  isRetryable,
  type Logger,
  MAX_EXPIRY_BATCH,
} from "@leasehold/broker";
import { isDomainError } from "@leasehold/domain";
import {
  type JobContext,
  type QueueConnection,
  type QueueWorker,
  startQueueWorker,
  UnrecoverableError,
} from "@leasehold/queue";

/**
 * The worker's thin edges: each processor turns a job into one use case call. Errors no retry can
 * fix become UnrecoverableError so BullMQ stops; the use case has already recorded the outcome.
 */
export async function asJob(context: JobContext, work: (attempt: Attempt) => Promise<unknown>) {
  try {
    await work({ isLast: context.attempt >= context.maxAttempts, signal: context.signal });
  } catch (error) {
    if (!isRetryable(error)) throw new UnrecoverableError(describeFailure(error));
    // BullMQ keeps the message in Redis: only a description written to be safe goes there.
    if (isDomainError(error)) throw error;
    throw new Error(describeFailure(error), { cause: error });
  }
}

export function startGrantProcessors(
  grants: Pick<GrantUseCases, "issue" | "expire" | "finishRevoke">,
  connection: QueueConnection,
  options: { concurrency: number; lockMs: number; log: Logger },
): QueueWorker[] {
  // Unexpected errors keep their original (with its stack) as the cause, for the operator's log.
  const onFailed = (queue: string) => (jobId: string, error: Error) =>
    options.log.warn(
      { queue, jobId, error: describeFailure(error), ...(error.cause ? { err: error.cause } : {}) },
      "job attempt failed",
    );
  const common = (queue: string) => ({
    concurrency: options.concurrency,
    lockMs: options.lockMs,
    onFailed: onFailed(queue),
  });
  return [
    startQueueWorker(
      "grantIssue",
      (payload, context) => asJob(context, (attempt) => grants.issue(payload.grantId, attempt)),
      connection,
      common("grant-issue"),
    ),
    startQueueWorker(
      "grantExpire",
      (payload, context) => asJob(context, (attempt) => grants.expire(payload.grantId, attempt)),
      connection,
      // Enough jobs in hand that one batch gathers while the previous one commits (grants.expire
      // gathers the jobs that run at the same moment into one batch).
      { ...common("grant-expire"), concurrency: Math.max(options.concurrency, 2 * MAX_EXPIRY_BATCH) },
    ),
    startQueueWorker(
      "grantRevoke",
      (payload, context) => asJob(context, (attempt) => grants.finishRevoke(payload.grantId, attempt)),
      connection,
      common("grant-revoke"),
    ),
  ];
}
