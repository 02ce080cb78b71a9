import { DelayedError, type Job, Job as JobClass, UnrecoverableError } from "bullmq";
import { openQueueStore } from "./open-queue-store.js";
import type { QueueConnection } from "./queue-connection.js";
import { type Payload, type QueueKey, queueRegistry, retentionFor } from "./queue-registry.js";
import type { AnyWorker } from "./queue-store.js";

/** What a processor learns about the job it runs, beyond the payload. */
export type JobContext = {
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Tries in all; when `attempt === maxAttempts` this is the last one. */
  readonly maxAttempts: number;
  /** Aborted when the worker shuts down; forward it to network calls. */
  readonly signal: AbortSignal | undefined;
  /**
   * Puts this job back, delayed by `ms` (a backend said "too many requests, retry after"), and returns
   * the error to throw: the job runs again then, without using up an attempt.
   */
  readonly retryAfter: (ms: number) => Promise<Error>;
  /**
   * Whether the job with this id on the same queue is still to run (waiting, delayed, running or
   * waiting to retry). A completed job, a failed one that was removed, or an unknown id is not.
   */
  readonly isPending: (jobId: string) => Promise<boolean>;
};

/** The states in which a job will still run. */
const PENDING_STATES: ReadonlySet<string> = new Set([
  "waiting",
  "delayed",
  "active",
  "prioritized",
  "waiting-children",
]);

export type Handler<Q extends QueueKey> = (payload: Payload<Q>, context: JobContext) => Promise<void>;

export type QueueWorker = { close(): Promise<void> };

/**
 * Runs `handler` for jobs on one queue. A payload that fails its schema is not retried: no retry can
 * make it valid.
 */
export function startQueueWorker<Q extends QueueKey>(
  key: Q,
  handler: Handler<Q>,
  connection: QueueConnection,
  options: {
    concurrency?: number;
    /**
     * Start each job the moment it is taken: `concurrency` workers that hold one job each, instead of
     * one worker that holds `concurrency` jobs. A BullMQ worker with room for more asks the store for
     * the next job before it starts the one it has (one more round trip to Redis, a millisecond and
     * more under load), so for queues someone waits on (an approved request's issue) one job per
     * worker is quicker. Redis only: there the workers share one connection and each adds a blocking
     * one; on PostgreSQL every worker would bring a pool and a LISTEN connection of its own.
     */
    startAtOnce?: boolean;
    /** How long a job may go without its worker renewing the lock before another worker takes it over. */
    lockMs?: number;
    /** At most `max` jobs per `durationMs` across all workers. */
    limiter?: { max: number; durationMs: number };
    onFailed?: (jobId: string, error: Error) => void;
  } = {},
): QueueWorker {
  const entry = queueRegistry[key];
  const store = openQueueStore(connection, "worker");
  const concurrency = options.concurrency ?? 8;
  const oneJobEach = options.startAtOnce === true && store.workersShareConnection;
  const workers: AnyWorker[] = [];
  const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
    // Jobs do not store their retry policy (shorter job hashes in Redis): BullMQ decides whether and
    // when to retry from the job it holds when an attempt fails, so the worker gives it the queue's.
    Object.assign(job.opts, entry.retry);
    const parsed = entry.payload.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`job ${job.id} on ${entry.name} has an invalid payload`);
    await handler(parsed.data as Payload<Q>, {
      jobId: job.id ?? "",
      attempt: job.attemptsMade + 1,
      maxAttempts: entry.retry.attempts,
      signal,
      retryAfter: async (ms) => {
        await job.moveToDelayed(Date.now() + ms, token);
        return new DelayedError();
      },
      isPending: async (jobId) => {
        const other = await JobClass.fromId(workers[0] as AnyWorker, jobId);
        return other !== undefined && PENDING_STATES.has(await other.getState());
      },
    });
  };
  const settings = {
    concurrency: oneJobEach ? 1 : concurrency,
    // Retention lives on the worker, not in each job's stored options (shorter job hashes in Redis).
    ...retentionFor(key),
    // A crashed worker's jobs are found by this check and run again elsewhere.
    ...(options.lockMs !== undefined
      ? { lockDuration: options.lockMs, stalledInterval: options.lockMs }
      : {}),
  };
  const onFailed = options.onFailed;
  for (let i = 0; i < (oneJobEach ? concurrency : 1); i++) {
    const worker = store.worker(entry.name, processor, settings);
    if (onFailed) worker.on("failed", (job, error) => onFailed(job?.id ?? "", error));
    // Connection errors are retried (by ioredis, or BullMQ on PostgreSQL); unheard, they would crash the process.
    worker.on("error", () => {});
    workers.push(worker);
  }
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await store.close([]);
    },
  };
}
