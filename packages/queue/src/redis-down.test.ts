import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { createQueueProducer, grantQueues } from "./grant-queues.js";
import { RedisUnavailableError } from "./redis-deadline.js";

/** A loopback port nothing listens on: a Redis that is down. */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe("with Redis down from the start", () => {
  it("enqueueing and restoring schedulers fail with a clear error instead of waiting forever", async () => {
    const connection = { redisUrl: `redis://127.0.0.1:${await deadPort()}`, prefix: "lh-down" };
    const producer = createQueueProducer(connection);
    const queues = grantQueues(producer);
    try {
      const now = new Date();
      const results = await Promise.allSettled([
        queues.issue("9f1c2d3e-0000-4000-8000-000000000001"),
        queues.expireAt("9f1c2d3e-0000-4000-8000-000000000001", new Date(now.getTime() + 60_000), now),
        producer.syncCronSchedulers("rotationTick", [
          { id: "rotation-db", cron: "0 3 * * *", data: { rotationId: "db" } },
        ]),
      ]);
      for (const result of results) {
        expect(result.status).toBe("rejected");
        const reason = (result as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(RedisUnavailableError);
        expect(String(reason.message)).toMatch(/Redis did not answer/);
      }
    } finally {
      await producer.close();
    }
  });
});
