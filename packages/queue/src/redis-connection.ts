import { Redis } from "ioredis";

/** Where the queues live: a Redis URL and the key prefix that separates installations (and tests). */
export type QueueConnection = { readonly redisUrl: string; readonly prefix: string };

/**
 * A Redis connection for BullMQ. Workers block on Redis and must never give up a command
 * (`maxRetriesPerRequest: null`); producers give up after a few reconnects so an API call fails
 * clearly instead of hanging while Redis is down (the sweep enqueues what was missed).
 */
export function connectRedis(redisUrl: string, role: "producer" | "worker"): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: role === "worker" ? null : 2 });
}
