import { Queue, Worker } from "bullmq";
import type { RedisQueueConnection } from "./queue-connection.js";
import { withinQueueDeadline } from "./queue-deadline.js";
import type { AnyQueue, AnyWorker, QueueStore, StoreRole } from "./queue-store.js";
import { closeQuietly, connectRedis } from "./redis-connection.js";

/** Queues and workers over one ioredis connection, under the installation's key prefix. */
export function openRedisQueueStore(connection: RedisQueueConnection, role: StoreRole): QueueStore {
  const redis = connectRedis(connection.redisUrl, role);
  const base = { connection: redis, prefix: connection.prefix };
  return {
    name: "Redis",
    workersShareConnection: true,
    reopenAfterOutage: false,
    queue: (name): AnyQueue => new Queue(name, base),
    worker: (name, processor, settings): AnyWorker => new Worker(name, processor, { ...base, ...settings }),
    async ping() {
      await redis.ping();
    },
    async close(queues) {
      // Closing a queue waits for its connection; on a Redis that never answered it would wait forever.
      if (redis.status === "ready") {
        await withinQueueDeadline(Promise.all(queues.map((q) => q.close())), "close", "Redis").catch(
          () => undefined,
        );
      }
      await closeQuietly(redis);
    },
  };
}
