/**
 * How long Leasehold waits for Redis to answer one enqueue or schedule before it gives up. BullMQ
 * waits for a connection that has never been ready without limit (ioredis's maxRetriesPerRequest does
 * not apply before the first connect), so a process started while Redis is down would otherwise hang
 * every API call that enqueues, and every sweep that restores a job scheduler.
 */
export const REDIS_DEADLINE_MS = 5000;

export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

/**
 * `work`, or a RedisUnavailableError once `ms` have passed. The abandoned work may still complete
 * when Redis returns; every use here is idempotent (job ids are deterministic, schedulers upserted).
 */
export async function withinRedisDeadline<T>(
  work: Promise<T>,
  what: string,
  ms: number = REDIS_DEADLINE_MS,
): Promise<T> {
  work.catch(() => undefined); // an abandoned attempt's failure is not an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`Redis did not answer (${what}) within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
