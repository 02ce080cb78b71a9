import { randomUUID } from "node:crypto";
import { createScratchQueueStore, queueBackends, testRedisUrl } from "@leasehold/test-kit";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createQueueProducer, grantQueues } from "./grant-queues.js";
import { openQueueStore } from "./open-queue-store.js";
import type { QueueConnection } from "./queue-connection.js";
import { grantJobId, queueRegistry } from "./queue-registry.js";
import { startQueueWorker } from "./queue-worker.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Grant queues over a producer that the test closes afterwards. */
const openQueues = (conn: QueueConnection) => {
  const producer = createQueueProducer(conn);
  cleanups.push(() => producer.close());
  return grantQueues(producer);
};

/** A BullMQ queue on the test's store, to look at what the producer left there. */
const inspect = (conn: QueueConnection, name: string) => {
  const store = openQueueStore(conn, "producer");
  const queue = store.queue(name);
  cleanups.push(() => store.close([queue]));
  return queue;
};

describe.each(queueBackends)("grant queues on %s", (backend) => {
  const connection = async (): Promise<QueueConnection> => {
    const store = await createScratchQueueStore(backend);
    cleanups.push(() => store.close());
    return store.connection;
  };

  it("enqueueing the same grant twice while it waits makes one job", async () => {
    const conn = await connection();
    const queues = openQueues(conn);
    const grantId = randomUUID();
    await queues.issue(grantId);
    await queues.issue(grantId);
    const queue = inspect(conn, queueRegistry.grantIssue.name);
    const jobs = await queue.getJobs(["waiting"]);
    expect(jobs.map((j) => j.id)).toEqual([grantJobId(grantId)]);
  });

  it("reports each queue's depth: waiting and delayed jobs", async () => {
    const conn = await connection();
    const producer = createQueueProducer(conn);
    cleanups.push(() => producer.close());
    const queues = grantQueues(producer);
    const now = new Date();
    await queues.issue(randomUUID());
    await queues.issue(randomUUID());
    await queues.expireAt(randomUUID(), new Date(now.getTime() + 60_000), now);
    const depths = new Map((await producer.depths()).map((d) => [d.queue, d.depth]));
    expect(depths.get(queueRegistry.grantIssue.name)).toBe(2);
    expect(depths.get(queueRegistry.grantExpire.name)).toBe(1);
    expect(depths.get(queueRegistry.grantRevoke.name)).toBe(0);
    expect(depths.size).toBe(Object.keys(queueRegistry).length);
  });

  it("schedules expiry for the deadline", async () => {
    const conn = await connection();
    const queues = openQueues(conn);
    const grantId = randomUUID();
    const now = new Date();
    await queues.expireAt(grantId, new Date(now.getTime() + 60_000), now);
    const queue = inspect(conn, queueRegistry.grantExpire.name);
    const [job] = await queue.getJobs(["delayed"]);
    expect(job?.id).toBe(grantJobId(grantId));
    expect(job?.opts.delay).toBe(60_000);

    // An extension moves the same job rather than adding a second one.
    await queues.expireAt(grantId, new Date(now.getTime() + 120_000), now);
    const moved = await queue.getJobs(["delayed"]);
    expect(moved.map((j) => j.id)).toEqual([grantJobId(grantId)]);
    expect(moved[0]?.delay).toBe(120_000);
  });

  it("refuses a payload that is not a grant id before it reaches the store", async () => {
    const queues = openQueues(await connection());
    await expect(queues.revoke("not-a-uuid")).rejects.toThrow(/UUID/);
  });

  it("a worker receives the parsed payload and the attempt count", async () => {
    const conn = await connection();
    const queues = openQueues(conn);
    const seen: { grantId: string; attempt: number }[] = [];
    const done = new Promise<void>((resolve) => {
      const worker = startQueueWorker(
        "grantRevoke",
        async (payload, context) => {
          seen.push({ grantId: payload.grantId, attempt: context.attempt });
          if (context.attempt < 2) throw new Error("provider unavailable");
          resolve();
        },
        conn,
      );
      cleanups.push(() => worker.close());
    });
    const grantId = randomUUID();
    await queues.revoke(grantId);
    await done;
    expect(seen).toEqual([
      { grantId, attempt: 1 },
      { grantId, attempt: 2 },
    ]);
  });

  it("a worker that starts each job at once still holds `concurrency` jobs at a time, and retries", async () => {
    const conn = await connection();
    const queues = openQueues(conn);
    const grantIds = [randomUUID(), randomUUID(), randomUUID()];
    const running = new Set<string>();
    const attempts: string[] = [];
    let release: () => void = () => undefined;
    const allRunning = new Promise<void>((resolve) => {
      release = resolve;
    });
    const done = new Set<string>();
    const finished = new Promise<void>((resolve) => {
      const worker = startQueueWorker(
        "grantRevoke",
        async (payload, context) => {
          attempts.push(`${payload.grantId}:${context.attempt}`);
          // The first grant's first attempt fails: the retry must run on one of the workers too.
          if (payload.grantId === grantIds[0] && context.attempt === 1)
            throw new Error("provider unavailable");
          running.add(payload.grantId);
          if (running.size === grantIds.length) release();
          // Each job holds its worker until all three run at once: with fewer than three held, this waits forever.
          await allRunning;
          done.add(payload.grantId);
          if (done.size === grantIds.length) resolve();
        },
        conn,
        { concurrency: 3, startAtOnce: true },
      );
      cleanups.push(() => worker.close());
    });
    for (const grantId of grantIds) await queues.revoke(grantId);
    await finished;
    expect([...done].sort()).toEqual([...grantIds].sort());
    expect(attempts.filter((a) => a.startsWith(`${grantIds[0]}:`))).toEqual([
      `${grantIds[0]}:1`,
      `${grantIds[0]}:2`,
    ]);
  });

  it("jobs do not store their retry policy; the worker retries with its queue's, with backoff, then drops the job", async () => {
    const conn = await connection();
    const producer = createQueueProducer(conn);
    cleanups.push(() => producer.close());
    await producer.add("rotationTick", { rotationId: "nightly" }, "tick-1");
    const ticks = inspect(conn, queueRegistry.rotationTick.name);
    const stored = await ticks.getJob("tick-1");
    // BullMQ reads a job without stored attempts as 0 (one try) and without backoff as none.
    expect(stored?.opts.attempts).toBe(0);
    expect(stored?.opts.backoff).toBeUndefined();

    const { attempts, backoff } = queueRegistry.rotationTick.retry;
    const tries: { attempt: number; maxAttempts: number; at: number }[] = [];
    const lastTried = new Promise<void>((resolve) => {
      const worker = startQueueWorker(
        "rotationTick",
        async (_payload, context) => {
          tries.push({ attempt: context.attempt, maxAttempts: context.maxAttempts, at: Date.now() });
          if (context.attempt === attempts) resolve();
          throw new Error("the backend is down");
        },
        conn,
      );
      cleanups.push(() => worker.close());
    });
    await lastTried;
    // Failed for good after its last attempt: removed (the workers keep no failed jobs).
    await new Promise<void>((resolve) => {
      const poll = async () =>
        (await ticks.getJob("tick-1")) === undefined ? resolve() : setTimeout(poll, 50);
      void poll();
    });
    expect(tries.map((t) => [t.attempt, t.maxAttempts])).toEqual(
      Array.from({ length: attempts }, (_, i) => [i + 1, attempts]),
    );
    // Exponential: each retry waits at least the policy's delay doubled per attempt before it.
    for (let i = 1; i < tries.length; i++) {
      const waited = (tries[i]?.at ?? 0) - (tries[i - 1]?.at ?? 0);
      expect(waited).toBeGreaterThanOrEqual(backoff.delay * 2 ** (i - 1));
    }
  });

  it("a job can tell whether another job on its queue is still to run", async () => {
    const conn = await connection();
    const producer = createQueueProducer(conn);
    cleanups.push(() => producer.close());
    // audit-1 waits a minute; audit-2 asks about it, about itself, and about an id never queued.
    await producer.add("notifyDeliver", { seq: 1 }, "audit-1", 60_000);
    const answers = new Promise<boolean[]>((resolve) => {
      const worker = startQueueWorker(
        "notifyDeliver",
        async (_payload, context) => {
          resolve(
            await Promise.all([
              context.isPending("audit-1"),
              context.isPending(context.jobId),
              context.isPending("audit-99"),
            ]),
          );
        },
        conn,
      );
      cleanups.push(() => worker.close());
    });
    await producer.add("notifyDeliver", { seq: 2, after: 1 }, "audit-2");
    expect(await answers).toEqual([true, true, false]);
  });

  it("jobs do not store retention; workers remove finished jobs, and keep delivered notifications", async () => {
    const conn = await connection();
    const producer = createQueueProducer(conn);
    cleanups.push(() => producer.close());
    const grantId = randomUUID();
    await grantQueues(producer).revoke(grantId);
    await producer.add("notifyDispatch", {}, "dispatch-1");
    const revokes = inspect(conn, queueRegistry.grantRevoke.name);
    const jobId = grantJobId(grantId);
    const stored = await revokes.getJob(jobId);
    expect(stored?.opts).not.toHaveProperty("removeOnComplete");
    expect(stored?.opts).not.toHaveProperty("removeOnFail");

    const finished = (queue: ReturnType<typeof inspect>, id: string) =>
      new Promise<void>((resolve) => {
        const poll = async () => {
          const job = await queue.getJob(id);
          if (job === undefined || (await job.getState()) === "completed") resolve();
          else setTimeout(poll, 50);
        };
        void poll();
      });
    const dispatches = inspect(conn, queueRegistry.notifyDispatch.name);
    const deliveries = inspect(conn, queueRegistry.notifyDeliver.name);
    for (const [key, fail] of [
      ["grantRevoke", false],
      ["notifyDispatch", true],
      ["notifyDeliver", false],
    ] as const) {
      const worker = startQueueWorker(
        key,
        async () => {
          if (fail) throw new Error("the one attempt fails");
        },
        conn,
      );
      cleanups.push(() => worker.close());
    }
    await producer.add("notifyDeliver", { seq: 7 }, "audit-7");
    await Promise.all([
      finished(revokes, jobId),
      finished(dispatches, "dispatch-1"),
      finished(deliveries, "audit-7"),
    ]);
    // Completed and failed grant jobs are gone; a delivered notification stays (for an hour), completed.
    expect(await revokes.getJob(jobId)).toBeUndefined();
    expect(await dispatches.getJob("dispatch-1")).toBeUndefined();
    expect(await (await deliveries.getJob("audit-7"))?.getState()).toBe("completed");
  });
});

describe("an expiry job in Redis", () => {
  it("is stored as a listpack (every field under 64 bytes), even for the longest grant", async () => {
    const store = await createScratchQueueStore("redis");
    cleanups.push(() => store.close());
    const conn = store.connection;
    if (conn.backend !== "redis") throw new Error("a Redis store was asked for");
    const queues = openQueues(conn);
    const grantId = randomUUID();
    const now = new Date();
    // Twelve hours: the longest lifetime any backend accepts, so the longest delay stored.
    await queues.expireAt(grantId, new Date(now.getTime() + 12 * 3_600_000), now);
    const redis = new Redis(conn.redisUrl);
    cleanups.push(async () => {
      await redis.quit();
    });
    const key = `${conn.prefix}:${queueRegistry.grantExpire.name}:${grantJobId(grantId)}`;
    expect(await redis.config("GET", "hash-max-listpack-value")).toEqual(["hash-max-listpack-value", "64"]);
    expect(await redis.object("ENCODING", key)).toBe("listpack");
  });
});

describe("grant queues on a Redis Cluster prefix", () => {
  const redisUrl = testRedisUrl();

  it("with a hash-tagged prefix ({…}, for Redis Cluster), jobs run and every key is in the prefix's slot", async () => {
    const prefix = `{lh-test-${randomUUID().slice(0, 8)}}`;
    const conn: QueueConnection = { backend: "redis", redisUrl, prefix };
    cleanups.push(async () => {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    const queues = openQueues(conn);
    const grantId = randomUUID();
    const ran = new Promise<string>((resolve) => {
      const worker = startQueueWorker("grantRevoke", async (payload) => resolve(payload.grantId), conn);
      cleanups.push(() => worker.close());
    });
    await queues.revoke(grantId);
    await queues.expireAt(randomUUID(), new Date(Date.now() + 60_000), new Date());
    expect(await ran).toBe(grantId);
    const redis = new Redis(redisUrl);
    cleanups.push(async () => {
      await redis.quit();
    });
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(3);
    // A cluster computes a key's slot from its first {…} only: one tag, one slot, for every key.
    expect(new Set(keys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]))).toEqual(new Set([prefix.slice(1, -1)]));
  });
});
