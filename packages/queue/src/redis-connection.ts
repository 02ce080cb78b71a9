import { Redis } from "ioredis";

/**
 * A Redis connection for BullMQ. Workers block on Redis and must never give up a command
 * (`maxRetriesPerRequest: null`); producers give up after a few reconnects so an API call fails
 * clearly instead of hanging while Redis is down (the sweep enqueues what was missed).
 */
export function connectRedis(redisUrl: string, role: "producer" | "worker"): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: role === "worker" ? null : 2 });
}

/** Closes a connection that may already be broken. */
export async function closeQuietly(redis: Redis): Promise<void> {
  // QUIT on a connection that is not ready would wait for one; there is nothing to flush anyway.
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
