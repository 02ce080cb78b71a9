import { randomBytes } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type Database, openPostgres } from "@leasehold/db";
import { createPostgresDatabase } from "@leasehold/db/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresReplayCache } from "./postgres-replay-cache.js";
import { type ReplayCache, redisReplayCache } from "./slack-request-check.js";

/**
 * Both replay caches, each shared by two "replicas" (a Redis client, or a pool, each): a signature is
 * claimed once across them, and forgotten once its time is up.
 */

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const STORES = ["redis", "postgres"] as const;
type StoreKind = (typeof STORES)[number];

let database: Database & { url: string };
const opened: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  database = await createPostgresDatabase();
});
afterAll(async () => {
  for (const close of opened.reverse()) await close();
  await database?.close();
});

/** One replica's cache, on the store every replica shares (or, with `down`, on one that is not there). */
function replicaCache(kind: StoreKind, prefix: string, down = false): ReplayCache {
  if (kind === "redis") {
    const redis = down
      ? new Redis({ port: 1, enableOfflineQueue: false, retryStrategy: () => null })
      : new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on("error", () => {});
    opened.push(async () => redis.disconnect());
    return redisReplayCache(redis, prefix);
  }
  // Port 1: nothing listens there.
  const pool = openPostgres(down ? "postgres://postgres@127.0.0.1:1/leasehold" : database.url, {
    maxConnections: 2,
  });
  opened.push(() => pool.close());
  return postgresReplayCache(pool, { timeoutMs: 1_000 });
}

const signatureHash = () => randomBytes(32).toString("hex");

describe.each(STORES)("the replay cache in %s", (kind) => {
  let replicas: ReplayCache[] = [];
  beforeAll(() => {
    const prefix = `lh-test-${randomBytes(4).toString("hex")}`;
    replicas = [replicaCache(kind, prefix), replicaCache(kind, prefix)];
  });
  const replica = (i: number) => {
    const cache = replicas[i];
    if (!cache) throw new Error(`no replica ${i}`);
    return cache;
  };

  it("accepts a signature once, on whichever replica sees it first", async () => {
    const key = signatureHash();
    expect(await replica(0).claim(key, 60_000)).toBe(true);
    expect(await replica(0).claim(key, 60_000)).toBe(false);
    expect(await replica(1).claim(key, 60_000)).toBe(false);
  });

  it("accepts exactly one of concurrent copies sent to two replicas", async () => {
    const key = signatureHash();
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => replica(i % 2).claim(key, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it("forgets a signature once its time is up", async () => {
    const key = signatureHash();
    expect(await replica(0).claim(key, 1_000)).toBe(true);
    expect(await replica(1).claim(key, 1_000)).toBe(false);
    await sleep(1_100);
    expect(await replica(1).claim(key, 1_000)).toBe(true);
  });

  it("rejects a claim while the store cannot be reached", async () => {
    const down = replicaCache(kind, "unreachable", true);
    await expect(down.claim(signatureHash(), 60_000)).rejects.toThrow();
  });
});

describe("the replay cache in PostgreSQL, on a server that never answers", () => {
  it("rejects a claim once its time is up rather than keep the request waiting", async () => {
    // Accepts connections and says nothing: a database that hangs.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("not listening on TCP");
    const pool = openPostgres(`postgres://postgres@127.0.0.1:${address.port}/leasehold`, {
      maxConnections: 1,
    });
    try {
      const started = performance.now();
      await expect(
        postgresReplayCache(pool, { timeoutMs: 200 }).claim(signatureHash(), 60_000),
      ).rejects.toThrow(/did not answer within 200 ms/);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await pool.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
