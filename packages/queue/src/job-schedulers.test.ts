import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createQueueProducer } from "./grant-queues.js";
import { queueRegistry } from "./queue-registry.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = { redisUrl, prefix: `lh-test-${randomUUID().slice(0, 8)}` };
const redis = new Redis(redisUrl);
const producer = createQueueProducer(connection);
const flushPrefix = async () => {
  const keys = await redis.keys(`${connection.prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
};
afterAll(async () => {
  await producer.close();
  await flushPrefix();
  await redis.quit();
});

const schedulers = async (name: string) => {
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix: connection.prefix });
  try {
    return (await queue.getJobSchedulers()).map((s) => ({
      key: s.key,
      every: s.every,
      pattern: s.pattern,
      next: s.next,
    }));
  } finally {
    await queue.close();
  }
};

describe("job schedulers, which live in Redis and vanish with it", () => {
  it("scheduling again changes nothing while the schedule exists, and restores it once Redis lost it", async () => {
    const name = queueRegistry.notifyDispatch.name;
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    const [first] = await schedulers(name);
    expect(first).toMatchObject({ key: `${name}-schedule`, every: 60_000 });
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    expect(await schedulers(name)).toEqual([first]);

    await flushPrefix();
    expect(await schedulers(name)).toEqual([]);
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    expect(await schedulers(name)).toMatchObject([{ key: `${name}-schedule`, every: 60_000 }]);
  });

  it("cron schedules: unchanged ones are kept, changed ones replaced, dropped ones removed, lost ones restored", async () => {
    const name = queueRegistry.rotationTick.name;
    const tick = (id: string, cron: string) => ({ id, cron, data: { rotationId: id } });
    await producer.syncCronSchedulers("rotationTick", [tick("a", "0 3 * * *"), tick("b", "0 4 * * *")]);
    const before = new Map((await schedulers(name)).map((s) => [s.key, s]));
    expect([...before.keys()].sort()).toEqual(["a", "b"]);

    await producer.syncCronSchedulers("rotationTick", [tick("a", "0 3 * * *"), tick("c", "0 5 * * *")]);
    const after = new Map((await schedulers(name)).map((s) => [s.key, s]));
    expect([...after.keys()].sort()).toEqual(["a", "c"]);
    expect(after.get("a")).toEqual(before.get("a"));

    await flushPrefix();
    await producer.syncCronSchedulers("rotationTick", [tick("a", "0 3 * * *"), tick("c", "0 5 * * *")]);
    expect((await schedulers(name)).map((s) => [s.key, s.pattern]).sort()).toEqual([
      ["a", "0 3 * * *"],
      ["c", "0 5 * * *"],
    ]);
  });

  it("a producer keeps schedules over its one connection, call after call, and restores lost ones", async () => {
    const name = queueRegistry.rotationTick.name;
    const tick = (id: string, cron: string) => ({ id, cron, data: { rotationId: id } });
    await flushPrefix();
    for (let sweep = 0; sweep < 3; sweep++) {
      await producer.syncCronSchedulers("rotationTick", [tick("p", "0 6 * * *")]);
    }
    expect((await schedulers(name)).map((s) => [s.key, s.pattern])).toEqual([["p", "0 6 * * *"]]);
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    await flushPrefix();
    await producer.syncCronSchedulers("rotationTick", [tick("p", "0 6 * * *")]);
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    expect((await schedulers(name)).map((s) => s.key)).toEqual(["p"]);
    expect(await schedulers(queueRegistry.notifyDispatch.name)).toMatchObject([{ every: 60_000 }]);
  });
});
