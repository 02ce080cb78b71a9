import { randomBytes } from "node:crypto";
import { adminDatabaseUrl } from "@leasehold/db/testing";
import { Redis } from "ioredis";
import pg from "pg";

/** The queue stores Leasehold runs on (LEASEHOLD_QUEUE_BACKEND); queue tests run on each. */
export type QueueBackend = "redis" | "postgres";
export const queueBackends: readonly QueueBackend[] = ["redis", "postgres"];

/**
 * A queue store of a test's own: a fresh key prefix on the test Redis, or a fresh database on the test
 * PostgreSQL server (BullMQ creates its schema there on first use). `connection` has the shape of
 * @leasehold/queue's QueueConnection (the test kit does not depend on the queue package, whose tests
 * use the kit).
 */
export type ScratchQueueStore = {
  readonly connection:
    | { readonly backend: "redis"; readonly redisUrl: string; readonly prefix: string }
    | { readonly backend: "postgres"; readonly databaseUrl: string; readonly schema: string };
  /**
   * Loses every job, delayed job and job scheduler, as a store does that is flushed or restored from
   * nothing: on Redis, deletes the prefix's keys (FLUSHALL, for this installation only); on PostgreSQL,
   * truncates the queue tables, keeping the schema and its migration ledger.
   */
  loseEveryJob(): Promise<void>;
  /** Deletes the prefix's keys or drops the database. */
  close(): Promise<void>;
};

export const testRedisUrl = (): string => process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export async function createScratchQueueStore(backend: QueueBackend): Promise<ScratchQueueStore> {
  return backend === "redis" ? redisStore() : postgresStore();
}

function redisStore(): ScratchQueueStore {
  const redisUrl = testRedisUrl();
  const prefix = `lh-test-${randomBytes(4).toString("hex")}`;
  const deleteKeys = async () => {
    const redis = new Redis(redisUrl);
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
    } finally {
      await redis.quit();
    }
  };
  return { connection: { backend: "redis", redisUrl, prefix }, loseEveryJob: deleteKeys, close: deleteKeys };
}

/** The schema BullMQ's tables go in; tests use the name production derives from the default prefix. */
const SCHEMA = "queue_leasehold";

async function postgresStore(): Promise<ScratchQueueStore> {
  const adminUrl = adminDatabaseUrl();
  const name = `lh_queue_${randomBytes(6).toString("hex")}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    connection: { backend: "postgres", databaseUrl, schema: SCHEMA },
    loseEveryJob: () =>
      withClient(databaseUrl, (c) =>
        truncateQueueTables(
          async (sql, params) => (await c.query(sql, params ? [...params] : [])).rows,
          SCHEMA,
        ),
      ),
    close: async () => {
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Empties every table BullMQ made in `schema` except its migration ledger: jobs, schedulers, events,
 * locks. The PostgreSQL store's equivalent of FLUSHALL.
 *
 * TRUNCATE locks its tables one after another while running workers read them in their own order, so
 * it can be the one PostgreSQL picks to end a deadlock (40P01); the workers' statement then proceeds,
 * and the TRUNCATE is tried again (a bounded number of times).
 */
export async function truncateQueueTables(
  query: (sql: string, params?: readonly unknown[]) => Promise<unknown[]>,
  schema: string,
): Promise<void> {
  const rows = (await query(
    "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'migration'",
    [schema],
  )) as { name: string }[];
  if (rows.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await query(`TRUNCATE ${rows.map((r) => r.name).join(", ")}`);
      return;
    } catch (error) {
      const deadlock = (error as { code?: unknown }).code === "40P01";
      if (!deadlock || attempt >= TRUNCATE_ATTEMPTS) throw error;
    }
  }
}

/** How many times a TRUNCATE ended by a deadlock is tried in all. */
const TRUNCATE_ATTEMPTS = 5;

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
