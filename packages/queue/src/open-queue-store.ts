import { openPostgresQueueStore } from "./postgres-queue-store.js";
import type { QueueConnection } from "./queue-connection.js";
import type { QueueStore, StoreRole } from "./queue-store.js";
import { openRedisQueueStore } from "./redis-queue-store.js";

/** The store LEASEHOLD_QUEUE_BACKEND chose. */
export function openQueueStore(connection: QueueConnection, role: StoreRole): QueueStore {
  switch (connection.backend) {
    case "redis":
      return openRedisQueueStore(connection, role);
    case "postgres":
      return openPostgresQueueStore(connection, role);
  }
}
