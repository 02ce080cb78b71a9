import { createScratchQueueStore, queueBackends, type ScratchQueueStore } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueueProducer, type QueueProducer } from "./grant-queues.js";
import { openQueueStore } from "./open-queue-store.js";
import { queueRegistry } from "./queue-registry.js";

describe.each(queueBackends)("job schedulers, which live in the %s store and vanish with it", (backend) => {
  let store: ScratchQueueStore;
  let producer: QueueProducer;
  beforeAll(async () => {
    store = await createScratchQueueStore(backend);
    producer = createQueueProducer(store.connection);
  });
  afterAll(async () => {
    await producer.close();
    await store.close();
  });
  const loseEveryJob = () => store.loseEveryJob();

  const schedulers = async (name: string) => {
    const queues = openQueueStore(store.connection, "producer");
    const queue = queues.queue(name);
    try {
      return (await queue.getJobSchedulers()).map((s) => ({
        key: s.key,
        every: s.every,
        pattern: s.pattern,
        next: s.next,
      }));
    } finally {
      await queues.close([queue]);
    }
  };

  it("scheduling again changes nothing while the schedule exists, and restores it once the store lost it", async () => {
    const name = queueRegistry.notifyDispatch.name;
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    const [first] = await schedulers(name);
    expect(first).toMatchObject({ key: `${name}-schedule`, every: 60_000 });
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    expect(await schedulers(name)).toEqual([first]);

    await loseEveryJob();
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

    await loseEveryJob();
    await producer.syncCronSchedulers("rotationTick", [tick("a", "0 3 * * *"), tick("c", "0 5 * * *")]);
    expect((await schedulers(name)).map((s) => [s.key, s.pattern]).sort()).toEqual([
      ["a", "0 3 * * *"],
      ["c", "0 5 * * *"],
    ]);
  });

  it("a producer keeps schedules over its one connection, call after call, and restores lost ones", async () => {
    const name = queueRegistry.rotationTick.name;
    const tick = (id: string, cron: string) => ({ id, cron, data: { rotationId: id } });
    await loseEveryJob();
    for (let sweep = 0; sweep < 3; sweep++) {
      await producer.syncCronSchedulers("rotationTick", [tick("p", "0 6 * * *")]);
    }
    expect((await schedulers(name)).map((s) => [s.key, s.pattern])).toEqual([["p", "0 6 * * *"]]);
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    await loseEveryJob();
    await producer.syncCronSchedulers("rotationTick", [tick("p", "0 6 * * *")]);
    await producer.scheduleRepeating("notifyDispatch", 60_000);
    expect((await schedulers(name)).map((s) => s.key)).toEqual(["p"]);
    expect(await schedulers(queueRegistry.notifyDispatch.name)).toMatchObject([{ every: 60_000 }]);
  });
});
