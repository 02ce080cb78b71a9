import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { turnSocket } from "./turn-socket.js";

/**
 * Runs one parameterized statement. Both a Database and a transaction are executors. Statements a
 * transaction is given without awaiting the one before go out together (pipelined, on a PostgreSQL
 * server) and run in the order given: a caller that needs no answer in between saves the round trip.
 */
export type SqlExecutor = {
  /**
   * `name`: prepare the statement once per connection under this name and only execute it after (a
   * hot read's parse and plan are then paid once, not on every call). One name, one text, always.
   */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    name?: string,
  ): Promise<Row[]>;
  /**
   * Sends a statement whose answer the caller does not need. In a transaction it does not wait: it goes
   * out with what follows (the COMMIT at the latest), and if it fails the transaction fails with its
   * error and nothing of it is committed. Outside a transaction it is a statement like any other,
   * resolved once it ran.
   */
  send(text: string, params?: readonly unknown[]): Promise<void>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
};

/**
 * PostgreSQL, either a server (node-postgres pool) or embedded (PGlite). Repositories see only this
 * interface, so the same code and the same tests run against both.
 */
export type Database = SqlExecutor & {
  readonly dialect: "postgres" | "pglite";
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `work` while holding a lock named `key` that every process on this database respects (a
   * session-level advisory lock on PostgreSQL). No transaction is open meanwhile, so `work` may call
   * the network. `work` gets the database through the lock's own connection, and should use only it:
   * a holder waiting for the pool while waiters hold every pooled connection would never finish.
   */
  exclusive<T>(key: string, work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

/** Connections a process's PostgreSQL pool opens at most, unless told otherwise. */
export const POSTGRES_POOL_SIZE = 10;

type PgQueryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** One statement on a pool or a client, prepared under `name` when one is given. */
const runOn = async <Row>(client: PgQueryable, text: string, params?: readonly unknown[], name?: string) => {
  const values = params as unknown[] | undefined;
  const result =
    name === undefined
      ? await client.query(text, values)
      : await client.query({ name, text, values: values ?? [] });
  return result.rows as Row[];
};

/** Statements on a pool or a connection, each awaited (no transaction is open). */
const executorOn = (client: PgQueryable): SqlExecutor => ({
  query: (text, params, name) => runOn(client, text, params, name),
  send: async (text, params) => {
    await runOn(client, text, params);
  },
  exec: async (script) => {
    await client.query(script);
  },
});

/**
 * Runs `work` in one transaction on `client`; the caller rolls back if it throws. BEGIN goes out with
 * the work's first statement, and the statements it `send`s go out with what follows, the COMMIT at
 * the latest: PostgreSQL runs a connection's statements in order, and once one fails the transaction
 * is aborted and its COMMIT answered with ROLLBACK. So the first failure of those statements is the
 * transaction's, and a COMMIT answered otherwise than COMMIT is never taken for one.
 */
async function transactionOn<T>(client: pg.PoolClient, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  // BEGIN fails only with its connection, and then so does the first statement.
  const begun = client.query("BEGIN");
  begun.catch(() => undefined);
  const unanswered: Promise<unknown>[] = [];
  const result = await work({
    ...executorOn(client),
    send: async (text, params) => {
      const sent = runOn(client, text, params);
      sent.catch(() => undefined);
      unanswered.push(sent);
    },
  });
  await begun;
  const committing = client.query("COMMIT");
  committing.catch(() => undefined);
  for (const sent of unanswered) await sent;
  const committed = await committing;
  if (committed.command !== "COMMIT")
    throw new Error(`the transaction ended in ${committed.command}, not COMMIT`);
  return result;
}

/** Opens a PostgreSQL server pool. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): Database {
  // Pipelined: a statement is sent without waiting for the answers to those before it on its connection,
  // and the statements given in one turn leave in one write.
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? POSTGRES_POOL_SIZE,
    pipeline: true,
    stream: turnSocket,
  });
  const inProcess = inProcessLocks();
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  return {
    dialect: "postgres",
    ...executorOn(pool),
    async transaction(work) {
      const client = await pool.connect();
      // A checked-out client whose connection dies (a server crash) fails its query and also emits
      // 'error'. The pool listens only to idle clients; unheard, that event would crash the process.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken = error;
      };
      client.on("error", onError);
      try {
        return await transactionOn(client, work);
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => {
          broken ??= rollbackError;
        });
        throw error;
      } finally {
        client.off("error", onError);
        // A broken client is destroyed, not handed to the next transaction.
        client.release(broken);
      }
    },
    // One waiter per key per process: the others wait here, not on a pooled connection.
    exclusive: (key, work) =>
      inProcess(key, async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        const onError = (error: Error) => {
          broken = error;
        };
        client.on("error", onError);
        const lockKey = `leasehold:${key}`;
        try {
          await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [lockKey]);
          return await work(pinnedTo(client, () => broken));
        } finally {
          // Unlocking fails only with the connection, and a lost connection has released the lock.
          await client
            .query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey])
            .catch((error: Error) => {
              broken ??= error;
            });
          client.off("error", onError);
          client.release(broken);
        }
      }),
    close: () => pool.end(),
  };
}

/**
 * Opens embedded PostgreSQL (PGlite). `dataDir` keeps it on disk; omitted, it lives in memory.
 * `loadDataDir` starts from a dump (tests use a migrated template).
 */
export async function openPglite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<Database> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const db = new PGlite({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {}),
  });
  await db.waitReady;
  return wrapPglite(db);
}

/**
 * PGlite is single-connection: its transactions run one at a time, which also makes the row locks
 * the repositories take trivially correct here.
 */
export function wrapPglite(db: PGlite): Database {
  // PGlite has one connection and no named statements: a name changes nothing here.
  const executor = (target: Pick<PGlite, "query" | "exec">): SqlExecutor => {
    const query = async <Row>(text: string, params?: readonly unknown[]) =>
      (await target.query<Row>(text, params as unknown[] | undefined)).rows;
    return {
      query,
      // One connection runs one statement at a time: there is no round trip to save.
      send: async (text, params) => {
        await query(text, params);
      },
      exec: async (script) => {
        await target.exec(script);
      },
    };
  };
  const locks = inProcessLocks();
  const database: Database = {
    dialect: "pglite",
    ...executor(db),
    transaction: (work) => db.transaction((tx) => work(executor(tx))),
    // One process holds an embedded database, so an in-process lock is every lock there is.
    exclusive: (key, work) => locks(key, () => work(database)),
    close: () => db.close(),
  };
  return database;
}

/**
 * A Database over one checked-out connection (the one holding an advisory lock): statements and
 * transactions run on it, in turn. It cannot be closed or locked again from inside.
 */
function pinnedTo(client: pg.PoolClient, broken: () => Error | undefined): Database {
  const pinned: Database = {
    dialect: "postgres",
    ...executorOn(client),
    async transaction(work) {
      try {
        return await transactionOn(client, work);
      } catch (error) {
        if (!broken()) await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
    },
    exclusive: () => Promise.reject(new Error("a lock's connection cannot take another lock")),
    close: () => Promise.reject(new Error("a lock's connection is released by the lock")),
  };
  return pinned;
}

/** Named locks within this process: each key's holders run one after another, in arrival order. */
function inProcessLocks() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** PostgreSQL's error code for a unique-constraint violation. */
export const isUniqueViolation = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === "23505";
