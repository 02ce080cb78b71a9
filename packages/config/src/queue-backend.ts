import { ConfigError } from "./config-error.js";

export type QueueBackend = "redis" | "postgres";

/**
 * The queue store LEASEHOLD_QUEUE_BACKEND names, or its default. The default is `postgres` whenever
 * there is a PostgreSQL server (DATABASE_URL): Leasehold needs that database anyway, so the queues
 * then need nothing more to run, back up or secure. On the embedded database it is `redis`: BullMQ's
 * PostgreSQL backend does not work on PGlite (see the README, "Queue backend"), so `postgres` there is
 * refused rather than started half-working.
 */
export function queueBackendFrom(env: {
  readonly LEASEHOLD_QUEUE_BACKEND?: QueueBackend | undefined;
  readonly DATABASE_URL?: string | undefined;
}): QueueBackend {
  const backend = env.LEASEHOLD_QUEUE_BACKEND ?? (env.DATABASE_URL ? "postgres" : "redis");
  if (backend === "postgres" && !env.DATABASE_URL) {
    throw new ConfigError("the environment", [
      "LEASEHOLD_QUEUE_BACKEND: postgres needs DATABASE_URL (a PostgreSQL server); BullMQ's PostgreSQL backend does not run on the embedded database. Set DATABASE_URL, or LEASEHOLD_QUEUE_BACKEND=redis",
    ]);
  }
  return backend;
}
