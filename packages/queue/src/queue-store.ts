import type { Job, Processor, Queue, WorkerOptions } from "bullmq";

/**
 * The part of a BullMQ queue Leasehold uses, the same on either store. (BullMQ's classes are generic
 * in their backend and connection type, so a Redis queue and a PostgreSQL one share no class type.)
 */
export type AnyQueue = Pick<
  Queue,
  | "add"
  | "getJob"
  | "getJobs"
  | "getJobCounts"
  | "upsertJobScheduler"
  | "getJobSchedulers"
  | "removeJobScheduler"
  | "close"
> & { on(event: "error", listener: (error: Error) => void): unknown };

/** The part of a BullMQ worker Leasehold uses: its events, its close, and looking up its queue's jobs. */
export type AnyWorker = Parameters<typeof Job.fromId>[0] & {
  close(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "failed", listener: (job: Job | undefined, error: Error) => void): unknown;
};

/** What a worker may set; the store supplies the connection. */
export type WorkerSettings = Omit<WorkerOptions, "connection" | "prefix">;

/** A producer shares what it can between its queues; a worker's store serves one worker. */
export type StoreRole = "producer" | "worker";

/**
 * Opens BullMQ queues and workers on one store (open-queue-store.ts picks it), so that nothing else
 * knows which store it is.
 */
export type QueueStore = {
  /** "Redis" or "PostgreSQL", for messages a person reads. */
  readonly name: string;
  /**
   * Whether a queue that met an outage must be opened again. BullMQ's PostgreSQL backend settles a
   * queue's first connect once: a queue first used while PostgreSQL is down fails every later call
   * too. A Redis queue reconnects by itself.
   */
  readonly reopenAfterOutage: boolean;
  /**
   * Whether several workers of one process share the store's connection (Redis: each adds only its
   * blocking connection), so that running one worker per job is cheap. On PostgreSQL BullMQ gives
   * every worker a pool and a LISTEN connection of its own.
   */
  readonly workersShareConnection: boolean;
  queue(name: string): AnyQueue;
  worker(name: string, processor: Processor, settings: WorkerSettings): AnyWorker;
  /** Resolves when the store answers a query; for readiness checks. */
  ping(): Promise<void>;
  /** Closes `queues` (opened here) and what the store holds, without waiting on a store that is down. */
  close(queues: readonly AnyQueue[]): Promise<void>;
};
