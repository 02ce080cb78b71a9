import { connect, createServer } from "node:net";
import { createScratchQueueStore, queueBackends } from "@leasehold/test-kit";
import { describe, expect, it } from "vitest";
import { createQueueProducer, grantQueues } from "./grant-queues.js";
import type { QueueConnection } from "./queue-connection.js";
import { QUEUE_DEADLINE_MS, QueueUnavailableError } from "./queue-deadline.js";

/** A loopback port nothing listens on: a store that is down. */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const downStore = async (backend: QueueConnection["backend"]): Promise<QueueConnection> => {
  const port = await deadPort();
  return backend === "redis"
    ? { backend, redisUrl: `redis://127.0.0.1:${port}`, prefix: "lh-down" }
    : { backend, databaseUrl: `postgres://postgres@127.0.0.1:${port}/leasehold`, schema: "queue_down" };
};

describe.each(queueBackends)("with the %s queue store down from the start", (backend) => {
  it("enqueueing and restoring schedulers fail with a clear error instead of waiting forever", async () => {
    const producer = createQueueProducer(await downStore(backend));
    const queues = grantQueues(producer);
    try {
      const now = new Date();
      const started = Date.now();
      const results = await Promise.allSettled([
        queues.issue("9f1c2d3e-0000-4000-8000-000000000001"),
        queues.expireAt("9f1c2d3e-0000-4000-8000-000000000001", new Date(now.getTime() + 60_000), now),
        producer.syncCronSchedulers("rotationTick", [
          { id: "rotation-db", cron: "0 3 * * *", data: { rotationId: "db" } },
        ]),
        producer.ping(),
      ]);
      expect(Date.now() - started).toBeLessThan(QUEUE_DEADLINE_MS + 1000);
      for (const result of results) {
        expect(result.status).toBe("rejected");
        const reason = (result as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(QueueUnavailableError);
        expect(String(reason.message)).toMatch(
          backend === "redis"
            ? /^Redis \(the queue store\) (did not answer|could not be reached)/
            : /^PostgreSQL \(the queue store\) could not be reached/,
        );
      }
    } finally {
      await producer.close();
    }
  });
});

/** Forwards loopback `port` to PostgreSQL's, from when it is called: the server coming back. */
const forward = (port: number, to: URL) =>
  new Promise<() => Promise<void>>((resolve) => {
    const server = createServer((client) => {
      const upstream = connect(Number(to.port || 5432), to.hostname);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", end);
      upstream.on("error", end);
      client.on("close", end);
    });
    server.listen(port, "127.0.0.1", () =>
      resolve(() => new Promise<void>((done) => server.close(() => done()))),
    );
  });

describe("with PostgreSQL down when a queue is first used", () => {
  it("the same producer enqueues once PostgreSQL is back", async () => {
    const store = await createScratchQueueStore("postgres");
    if (store.connection.backend !== "postgres") throw new Error("expected a PostgreSQL store");
    const port = await deadPort();
    const real = new URL(store.connection.databaseUrl);
    const viaPort = new URL(real);
    viaPort.port = String(port);
    const producer = createQueueProducer({ ...store.connection, databaseUrl: viaPort.toString() });
    const grantId = "9f1c2d3e-0000-4000-8000-000000000002";
    try {
      await expect(grantQueues(producer).issue(grantId)).rejects.toBeInstanceOf(QueueUnavailableError);
      const stop = await forward(port, real);
      try {
        await grantQueues(producer).issue(grantId);
      } finally {
        await producer.close();
        await stop();
      }
    } finally {
      await store.close();
    }
  });
});
