import { openQueueStore } from "./open-queue-store.js";
import { type QueueConnection, storeName } from "./queue-connection.js";
import { QueueUnavailableError, withinQueueDeadline } from "./queue-deadline.js";
import { grantJobId, notifyJobId, type Payload, type QueueKey, queueRegistry } from "./queue-registry.js";
import type { AnyQueue } from "./queue-store.js";

/** Adds typed jobs to any registered queue, on the store the connection names. */
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
  /**
   * Registers a BullMQ job scheduler for a queue: however many workers run, each tick produces one
   * job. Calling it again with another interval replaces the schedule; with the same one it changes
   * nothing (BullMQ's upsert keeps the next run), so the sweep calls it to bring back a schedule the
   * store lost (a Redis flush or restart without persistence, truncated queue tables).
   */
  scheduleRepeating(key: QueueKey, everyMs: number): Promise<void>;
  /**
   * Keeps one cron job scheduler per id on a queue (UTC), and removes the schedulers of ids no longer
   * given: a rotation deleted from leasehold.yaml stops firing. Upserting a schedule that is already as
   * wanted keeps its next run, so calling this on every sweep only restores what the store lost.
   */
  syncCronSchedulers<Q extends QueueKey>(
    key: Q,
    schedules: readonly { id: string; cron: string; data: Payload<Q> }[],
  ): Promise<void>;
  /** Resolves when the queue store answers; for readiness checks. */
  ping(): Promise<void>;
  /** Jobs not yet done (waiting, delayed, running) per registered queue name, for the metrics. */
  depths(): Promise<{ queue: string; depth: number }[]>;
  close(): Promise<void>;
};

/** The job states that count as a queue's depth: everything not yet finished. */
const PENDING_STATES = ["waiting", "delayed", "active", "prioritized", "waiting-children"] as const;

export function createQueueProducer(connection: QueueConnection): QueueProducer {
  const store = openQueueStore(connection, "producer");
  const open = new Map<QueueKey, AnyQueue>();
  const within = async <T>(work: Promise<T>, what: string, key?: QueueKey) => {
    try {
      return await withinQueueDeadline(work, what, storeName(connection));
    } catch (error) {
      const q = key && open.get(key);
      if (q && store.reopenAfterOutage && error instanceof QueueUnavailableError) {
        open.delete(key);
        void q.close().catch(() => undefined);
      }
      throw error;
    }
  };
  const queue = (key: QueueKey) => {
    let q = open.get(key);
    if (!q) {
      q = store.queue(queueRegistry[key].name);
      // Connection trouble reaches the caller as a rejected call; BullMQ would print each event too.
      q.on("error", () => undefined);
      open.set(key, q);
    }
    return q;
  };
  const addJob = async (key: QueueKey, payload: unknown, jobId: string, delayMs: number) => {
    const entry = queueRegistry[key];
    // The id and delay only: retry and retention are the workers' (queue-worker.ts), which keeps a
    // scheduled job's hash small in Redis.
    await queue(key).add(entry.name, entry.payload.parse(payload), {
      jobId,
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    });
  };
  const scheduleJob = async (key: QueueKey, payload: unknown, jobId: string, delayMs: number) => {
    const existing = await queue(key).getJob(jobId);
    if (existing && (await existing.isDelayed())) {
      await existing.changeDelay(delayMs);
      return;
    }
    await addJob(key, payload, jobId, delayMs);
  };
  return {
    add: (key, payload, jobId, delayMs = 0) =>
      within(addJob(key, payload, jobId, delayMs), `add ${key}`, key),
    schedule: (key, payload, jobId, at, now) =>
      within(
        scheduleJob(key, payload, jobId, Math.max(0, at.getTime() - now.getTime())),
        `schedule ${key}`,
        key,
      ),
    scheduleRepeating: (key, everyMs) => {
      const entry = queueRegistry[key];
      return within(
        queue(key).upsertJobScheduler(
          `${entry.name}-schedule`,
          { every: everyMs },
          { name: entry.name, data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
        ),
        `schedule ${key}`,
        key,
      ).then(() => undefined);
    },
    syncCronSchedulers: (key, schedules) => {
      const entry = queueRegistry[key];
      const q = queue(key);
      const sync = async () => {
        const wanted = new Set(schedules.map((s) => s.id));
        for (const existing of await q.getJobSchedulers()) {
          if (existing.key && !wanted.has(existing.key)) await q.removeJobScheduler(existing.key);
        }
        for (const schedule of schedules) {
          await q.upsertJobScheduler(
            schedule.id,
            { pattern: schedule.cron, tz: "UTC" },
            {
              name: entry.name,
              data: entry.payload.parse(schedule.data),
              opts: { removeOnComplete: true, removeOnFail: true },
            },
          );
        }
      };
      return within(sync(), `sync ${key} schedules`, key);
    },
    async ping() {
      await within(store.ping(), "ping");
    },
    depths: () =>
      Promise.all(
        (Object.keys(queueRegistry) as QueueKey[]).map(async (key) => {
          const counts = await within(queue(key).getJobCounts(...PENDING_STATES), `count ${key}`, key);
          const depth = Object.values(counts).reduce((sum, n) => sum + n, 0);
          return { queue: queueRegistry[key].name, depth };
        }),
      ),
    close: () => store.close([...open.values()]),
  };
}

/** What the use cases enqueue. Each call is idempotent while the previous job for that grant waits. */
export type GrantQueues = {
  issue(grantId: string): Promise<void>;
  /** Schedules the expiry job for `deadline` (or moves the one an extension made early); `now` is the caller's clock. */
  expireAt(grantId: string, deadline: Date, now: Date): Promise<void>;
  revoke(grantId: string): Promise<void>;
};

/** The grant queues over a producer. Job ids are the grants' (`grantJobId`). */
export const grantQueues = (producer: QueueProducer): GrantQueues => ({
  issue: async (grantId) => producer.add("grantIssue", { grantId }, grantJobId(grantId)),
  expireAt: async (grantId, deadline, now) =>
    producer.schedule("grantExpire", { grantId }, grantJobId(grantId), deadline, now),
  revoke: async (grantId) => producer.add("grantRevoke", { grantId }, grantJobId(grantId)),
});

export type NotificationQueues = {
  /** Queues the delivery of audit event `seq`, to run after the delivery of event `after` is done. */
  deliver(seq: number, after: number | undefined): Promise<void>;
  /** Schedules (or moves) a grant's expiry reminder to `at`; `now` is the caller's clock. */
  remindAt(grantId: string, at: Date, now: Date): Promise<void>;
};

/** The notification queues over a producer: one delivery per audit event, one reminder per grant. */
export const notificationQueues = (producer: QueueProducer): NotificationQueues => ({
  deliver: (seq, after) =>
    producer.add("notifyDeliver", after === undefined ? { seq } : { seq, after }, notifyJobId(seq)),
  remindAt: async (grantId, at, now) =>
    producer.schedule("notifyReminder", { grantId }, grantJobId(grantId), at, now),
});
