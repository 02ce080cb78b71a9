import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openPostgres } from "./database.js";
import { type ExpiringKeyRepo, expiringKeyRepo } from "./expiring-key-repo.js";
import { createPostgresDatabase, createTestDatabase } from "./test-database.js";

/**
 * Claims and counts on a real server, from two pools on one database: two replicas of an app. Expiry
 * is the server's clock, so the expiry tests wait out windows of 1 s (long enough to hold on a busy host).
 */
let db: Database & { url: string };
let replicas: { db: Database; keys: ExpiringKeyRepo }[] = [];
beforeAll(async () => {
  db = await createPostgresDatabase();
  replicas = [1, 2].map(() => {
    const pool = openPostgres(db.url, { maxConnections: 5 });
    return { db: pool, keys: expiringKeyRepo(pool) };
  });
});
afterAll(async () => {
  for (const replica of replicas) await replica.db.close();
  await db?.close();
});

const replica = (i: number): ExpiringKeyRepo => {
  const found = replicas[i];
  if (!found) throw new Error(`no replica ${i}`);
  return found.keys;
};
const key = () => `test:${randomUUID()}`;

describe("claiming a key once", () => {
  it("gives a key to its first claim and refuses every later one while the claim holds", async () => {
    const k = key();
    expect(await replica(0).claim(k, 60_000)).toBe(true);
    expect(await replica(0).claim(k, 60_000)).toBe(false);
    expect(await replica(1).claim(k, 60_000)).toBe(false);
    expect(await replica(0).claim(key(), 60_000)).toBe(true);
  });

  it("gives a key claimed concurrently from two replicas to exactly one claim", async () => {
    const k = key();
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => replica(i % 2).claim(k, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it("frees a key once its claim expires, for one new claim", async () => {
    const k = key();
    expect(await replica(0).claim(k, 1_000)).toBe(true);
    expect(await replica(1).claim(k, 1_000)).toBe(false);
    await sleep(1_100);
    const again = await Promise.all([replica(0).claim(k, 60_000), replica(1).claim(k, 60_000)]);
    expect(again.filter(Boolean)).toHaveLength(1);
  });
});

describe("counting hits in a window", () => {
  it("counts each hit across replicas and says when the window ends", async () => {
    const k = key();
    const first = await replica(0).increment(k, 60_000);
    expect(first.count).toBe(1);
    expect(first.resetInMs).toBeGreaterThan(59_000);
    expect(first.resetInMs).toBeLessThanOrEqual(60_000);
    const second = await replica(1).increment(k, 60_000);
    expect(second.count).toBe(2);
    // The window is the first hit's: a later hit does not extend it.
    expect(second.resetInMs).toBeLessThanOrEqual(first.resetInMs);
  });

  it("loses no hit counted concurrently from two replicas", async () => {
    const k = key();
    const hits = await Promise.all(Array.from({ length: 20 }, (_, i) => replica(i % 2).increment(k, 60_000)));
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it("starts the count over once the window has ended", async () => {
    const k = key();
    await replica(0).increment(k, 1_000);
    expect((await replica(1).increment(k, 1_000)).count).toBe(2);
    await sleep(1_100);
    const next = await replica(0).increment(k, 60_000);
    expect(next).toMatchObject({ count: 1 });
    expect(next.resetInMs).toBeGreaterThan(59_000);
  });
});

describe("expired rows", () => {
  const countRows = async (keys: string[]) =>
    (
      await db.query<{ n: number }>("SELECT count(*)::int AS n FROM expiring_keys WHERE key = ANY($1)", [
        keys,
      ])
    )[0]?.n;

  it("are deleted by later writes, a few at a time, and live ones are kept", async () => {
    const expiring = Array.from({ length: 15 }, key);
    for (const k of expiring) await replica(0).claim(k, 100);
    const live = key();
    await replica(0).claim(live, 60_000);
    await sleep(200);
    // Older expired rows from earlier tests may be swept first: write until these are all gone.
    let writes = 0;
    while ((await countRows(expiring)) !== 0 && writes < 50) {
      await replica(writes % 2).increment(key(), 60_000);
      writes += 1;
    }
    expect(await countRows(expiring)).toBe(0);
    expect(await countRows([live])).toBe(1);
    expect(await replica(1).claim(live, 60_000)).toBe(false);
  });
});

describe("on PGlite (embedded, one connection)", () => {
  it("claims once and counts in a window as on a server", async () => {
    const embedded = await createTestDatabase("pglite");
    try {
      const keys = expiringKeyRepo(embedded);
      expect(await keys.claim("replay:a", 60_000)).toBe(true);
      expect(await keys.claim("replay:a", 60_000)).toBe(false);
      expect((await keys.increment("rate:a", 60_000)).count).toBe(1);
      expect(await keys.increment("rate:a", 60_000)).toMatchObject({ count: 2 });
    } finally {
      await embedded.close();
    }
  });
});
