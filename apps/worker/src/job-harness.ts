import { type Attempt, describeFailure, isRetryable, type Logger } from "@leasehold/broker";
import { isDomainError, type Metrics, RetryAfterError } from "@leasehold/domain";
import {
  carriesTrace,
  type JobContext,
  type Payload,
  type QueueConnection,
  type QueueKey,
  type QueueWorker,
  queueRegistry,
  startQueueWorker,
  UnrecoverableError,
} from "@leasehold/queue";
import { extractTraceContext, type SpanAttributes, SpanKind, withSpan } from "@leasehold/tracing";

/** How often a job that must follow another checks whether that one is done. */
const ORDER_POLL_MS = 250;

/** What a processor's `run` learns about its job. */
export type JobRun = Attempt & { readonly jobId: string };

/**
 * One kind of job: which queue, how many at once, and the use case call it makes. Every processor
 * in the worker (grants, rotations, notifications) is defined this way and runs under `runJob`.
 */
export type ProcessorSpec<Q extends QueueKey> = {
  readonly queue: Q;
  readonly concurrency: number;
  /**
   * Start each job as soon as it is taken (one job per BullMQ worker; queue-worker.ts says why): for
   * jobs someone is waiting on.
   */
  readonly startAtOnce?: boolean;
  /** At most `max` jobs per `durationMs` across all workers. */
  readonly limiter?: { readonly max: number; readonly durationMs: number };
  /** The id of a job on the same queue that must be done before this one runs (ordering). */
  readonly after?: (payload: Payload<Q>) => string | undefined;
  /** Logged at error level when a job gives up, for work whose use case records no outcome itself. */
  readonly givingUp?: string;
  readonly run: (payload: Payload<Q>, job: JobRun) => Promise<unknown>;
};

/** How a processor runs: the job lock, the log, and where failed attempts are counted. */
export type ProcessorOptions = {
  readonly lockMs: number;
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, "jobFailed"> | undefined;
};

/** A processor ready to start; the queue's payload type stays inside. */
export type Processor = {
  readonly queue: QueueKey;
  start(connection: QueueConnection, options: ProcessorOptions): QueueWorker;
};

/**
 * The one error policy of every job: a backend's "retry after" puts the job back for that long
 * without using an attempt; what no retry can fix becomes UnrecoverableError so BullMQ stops (the
 * use case has already recorded the outcome); anything else is retried with the queue's backoff.
 * Only messages written to be safe reach Redis: an unexpected error keeps its original as the cause.
 */
export async function runJob(
  context: Pick<JobContext, "attempt" | "maxAttempts" | "signal" | "retryAfter">,
  work: (attempt: Attempt) => Promise<unknown>,
  onGivingUp?: (error: unknown) => void,
): Promise<void> {
  try {
    await work({ isLast: context.attempt >= context.maxAttempts, signal: context.signal });
  } catch (error) {
    if (error instanceof RetryAfterError) throw await context.retryAfter(error.retryAfterMs);
    const retryable = isRetryable(error);
    if (!retryable || context.attempt >= context.maxAttempts) onGivingUp?.(error);
    if (!retryable) throw new UnrecoverableError(describeFailure(error));
    if (isDomainError(error)) throw error;
    throw new Error(describeFailure(error), { cause: error });
  }
}

/**
 * Runs a job of a queue whose jobs carry their enqueuer's trace context (issue, revoke, rotation runs)
 * in a span that continues that trace: the API's call → this job → the provider call and the commit.
 */
function inJobSpan(
  queue: QueueKey,
  payload: object,
  jobId: string,
  attempt: number,
  work: () => Promise<void>,
) {
  if (!carriesTrace(queue)) return work();
  const name = queueRegistry[queue].name;
  const ids: SpanAttributes = {
    "messaging.system": "bullmq",
    "messaging.operation.type": "process",
    "messaging.destination.name": name,
    "messaging.message.id": jobId,
    "leasehold.job.attempt": attempt,
  };
  if ("grantId" in payload && typeof payload.grantId === "string")
    ids["leasehold.grant.id"] = payload.grantId;
  if ("rotationId" in payload && typeof payload.rotationId === "string")
    ids["leasehold.rotation.id"] = payload.rotationId;
  const parent = extractTraceContext("trace" in payload ? payload.trace : undefined);
  return withSpan(`job ${name}`, ids, work, { kind: SpanKind.CONSUMER, parent });
}

export function defineProcessor<Q extends QueueKey>(spec: ProcessorSpec<Q>): Processor {
  const queueName = queueRegistry[spec.queue].name;
  return {
    queue: spec.queue,
    start: (connection, { lockMs, log, metrics }) =>
      startQueueWorker(
        spec.queue,
        async (payload, context) => {
          const predecessor = spec.after?.(payload);
          // Not an attempt: the job waits its turn, however long its predecessor retries.
          if (predecessor !== undefined && (await context.isPending(predecessor))) {
            throw await context.retryAfter(ORDER_POLL_MS);
          }
          const givingUp = spec.givingUp;
          const run = () =>
            runJob(
              context,
              (attempt) => spec.run(payload, { ...attempt, jobId: context.jobId }),
              givingUp === undefined
                ? undefined
                : (error) =>
                    log.error(
                      {
                        queue: queueName,
                        jobId: context.jobId,
                        attempts: context.attempt,
                        error: describeFailure(error),
                      },
                      givingUp,
                    ),
            );
          await inJobSpan(spec.queue, payload, context.jobId, context.attempt, run);
        },
        connection,
        {
          concurrency: spec.concurrency,
          ...(spec.startAtOnce ? { startAtOnce: true } : {}),
          lockMs,
          ...(spec.limiter ? { limiter: spec.limiter } : {}),
          // Unexpected errors keep their original (with its stack) as the cause, for the operator's log.
          onFailed: (jobId, error) => {
            metrics?.jobFailed(queueName);
            log.warn(
              {
                queue: queueName,
                jobId,
                error: describeFailure(error),
                ...(error.cause ? { err: error.cause } : {}),
              },
              "job attempt failed",
            );
          },
        },
      ),
  };
}

/** Starts a worker for each processor. */
export const startProcessors = (
  processors: readonly Processor[],
  connection: QueueConnection,
  options: ProcessorOptions,
): QueueWorker[] => processors.map((p) => p.start(connection, options));
