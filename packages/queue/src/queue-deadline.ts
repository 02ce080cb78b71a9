/**
 * How long Leasehold waits for the queue store to answer one enqueue or schedule before it gives up.
 * BullMQ waits for a Redis connection that has never been ready without limit (ioredis's
 * maxRetriesPerRequest does not apply before the first connect), and a PostgreSQL pool waits for a
 * free connection without limit, so a process started while the store is down would otherwise hang
 * every API call that enqueues, and every sweep that restores a job scheduler.
 */
export const QUEUE_DEADLINE_MS = 5000;

export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
}

/**
 * `work`, or a QueueUnavailableError once `ms` have passed. The abandoned work may still complete
 * when the store returns; every use here is idempotent (job ids are deterministic, schedulers upserted).
 * `store` names the store in the message ("Redis", "PostgreSQL").
 */
export async function withinQueueDeadline<T>(
  work: Promise<T>,
  what: string,
  store: string,
  ms: number = QUEUE_DEADLINE_MS,
): Promise<T> {
  work.catch(() => undefined); // an abandoned attempt's failure is not an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new QueueUnavailableError(`${store} (the queue store) did not answer (${what}) within ${ms} ms`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    if (isConnectionFailure(error)) {
      throw new QueueUnavailableError(
        `${store} (the queue store) could not be reached (${what}): ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `error` says the store could not be reached, rather than that it refused the operation: a
 * socket error from Node (ECONNREFUSED, ETIMEDOUT, ...), ioredis giving up on a command after its
 * reconnects, or node-postgres giving up on a connection.
 */
function isConnectionFailure(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated/i.test(error.message);
}
