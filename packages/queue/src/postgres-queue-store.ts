import { createPostgresBackend, type PostgresPoolConfig, Queue, Worker } from "bullmq";
import pg from "pg";
import type { PostgresQueueConnection } from "./queue-connection.js";
import { withinQueueDeadline } from "./queue-deadline.js";
import type { AnyQueue, AnyWorker, QueueStore, StoreRole } from "./queue-store.js";

/**
 * Pool sizes. BullMQ gives every queue and worker a pool of its own (a pool cannot carry the schema
 * otherwise), and each worker one more connection that waits on LISTEN. A producer's queues only
 * insert, one statement at a time; a worker's pool serves its concurrent jobs' bookkeeping. Idle
 * connections close after node-postgres's 10 s, so a quiet process holds few.
 */
const POOL_MAX: Record<StoreRole, number> = { producer: 2, worker: 4 };

/**
 * How long to wait for a connection. A producer gives up soon, as ioredis does after two retries, so
 * an API call fails clearly while PostgreSQL is down; a worker waits longer and BullMQ tries again.
 */
const CONNECT_TIMEOUT_MS: Record<StoreRole, number> = { producer: 2_000, worker: 10_000 };

/**
 * Queues and workers in a schema of Leasehold's PostgreSQL database. Unless prepareQueueSchema has
 * migrated it, BullMQ creates and upgrades the schema itself (`migrate`, under an advisory lock, so
 * processes starting together migrate once).
 */
export function openPostgresQueueStore(connection: PostgresQueueConnection, role: StoreRole): QueueStore {
  const config: PostgresPoolConfig = {
    connectionString: connection.databaseUrl,
    schema: connection.schema,
    ...(connection.migrated ? { skipMigrations: true } : { migrate: true }),
    max: POOL_MAX[role],
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS[role],
  };
  // Readiness asks the server itself: a queue's own readiness is settled once and never asked again.
  let pingPool: pg.Pool | undefined;
  return {
    name: "PostgreSQL",
    workersShareConnection: false,
    reopenAfterOutage: true,
    queue: (name): AnyQueue => new Queue(name, { connection: config }, createPostgresBackend),
    worker: (name, processor, settings): AnyWorker =>
      new Worker(name, processor, { ...settings, connection: config }, createPostgresBackend),
    async ping() {
      if (!pingPool) {
        pingPool = new pg.Pool({
          connectionString: connection.databaseUrl,
          max: 1,
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS.producer,
        });
        // An idle connection that drops is reported here; the next ping opens another.
        pingPool.on("error", () => undefined);
      }
      await pingPool.query("SELECT 1");
    },
    async close(queues) {
      // Each queue ends its own pool; ending a pool never waits for a server that is not there.
      await withinQueueDeadline(Promise.all(queues.map((q) => q.close())), "close", "PostgreSQL").catch(
        () => undefined,
      );
      await pingPool?.end();
    },
  };
}
