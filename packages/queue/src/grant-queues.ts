import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Payload, type QueueKey, queueRegistry, retentionFor } from "./queue-registry.js";
import { connectRedis, type QueueConnection } from "./redis-connection.js";

/** Adds typed jobs to any registered queue over one Redis connection. */
export type QueueProducer = {
  /** Adds a job unless one with `jobId` is already waiting; validates the payload first. */
  add<Q extends QueueKey>(key: Q, payload: Payload<Q>, jobId: string, delayMs?: number): Promise<void>;
  /** Adds a delayed job, or moves the delay of the one already waiting with that id. */
  schedule<Q extends QueueKey>(
    key: Q,
    payload: Payload<Q>,
    jobId: string,
    at: Date,
    now: Date,
  ): Promise<void>;
  /** Resolves when Redis answers; for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export function createQueueProducer(connection: QueueConnection): QueueProducer {
  const redis = connectRedis(connection.redisUrl, "producer");
  const open = new Map<QueueKey, Queue>();
  const queue = (key: QueueKey) => {
    let q = open.get(key);
    if (!q) {
      q = new Queue(queueRegistry[key].name, { connection: redis, prefix: connection.prefix });
      open.set(key, q);
    }
    return q;
  };
  const add: QueueProducer["add"] = async (key, payload, jobId, delayMs = 0) => {
    const entry = queueRegistry[key];
    await queue(key).add(entry.name, entry.payload.parse(payload), {
      ...entry.options,
      ...retentionFor(key),
      jobId,
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    });
  };
  return {
    add,
    async schedule(key, payload, jobId, at, now) {
      const delayMs = Math.max(0, at.getTime() - now.getTime());
      const existing = await queue(key).getJob(jobId);
      if (existing && (await existing.isDelayed())) {
        await existing.changeDelay(delayMs);
        return;
      }
      await add(key, payload, jobId, delayMs);
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await Promise.all([...open.values()].map((q) => q.close()));
      await closeQuietly(redis);
    },
  };
}

/** What the use cases enqueue. Each call is idempotent while the previous job for that grant waits. */
export type GrantQueues = {
  issue(grantId: string): Promise<void>;
  /** Schedules the expiry job for `deadline` (or moves the one an extension made early); `now` is the caller's clock. */
  expireAt(grantId: string, deadline: Date, now: Date): Promise<void>;
  revoke(grantId: string): Promise<void>;
};

/** The grant queues over a producer. Job ids are grant ids. */
export const grantQueues = (producer: QueueProducer): GrantQueues => ({
  issue: (grantId) => producer.add("grantIssue", { grantId }, grantId),
  expireAt: (grantId, deadline, now) => producer.schedule("grantExpire", { grantId }, grantId, deadline, now),
  revoke: (grantId) => producer.add("grantRevoke", { grantId }, grantId),
});

/** Closes a connection that may already be broken. */
export async function closeQuietly(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
