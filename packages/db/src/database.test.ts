import { describe, expect, it } from "vitest";
import { openPostgres } from "./database.js";
import { adminDatabaseUrl, createPostgresDatabase, createTestDatabase, dialects } from "./test-database.js";

describe("a PostgreSQL connection that dies in a transaction", () => {
  it("fails the transaction, does not crash the process, and the pool recovers", async () => {
    const db = await createPostgresDatabase();
    const admin = openPostgres(adminDatabaseUrl(), { maxConnections: 1 });
    try {
      await expect(
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          await admin.query("SELECT pg_terminate_backend($1)", [row?.pid]);
          // The termination arrives while no query runs: the client emits 'error' on its own.
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.query("SELECT 1");
        }),
      ).rejects.toThrow();
      expect(await db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    } finally {
      await admin.close();
      await db.close();
    }
  });
});

describe("statements a PostgreSQL transaction is given together", () => {
  it("run in the order given, each seeing what was committed before the one ahead of it finished", async () => {
    const db = await createPostgresDatabase();
    const other = openPostgres(db.url, { maxConnections: 1 });
    try {
      await db.exec("CREATE TABLE seen (n integer)");
      let release: () => void = () => {};
      let locked: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holding = other.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(42)");
        await new Promise<void>((resolve) => {
          release = resolve;
          locked();
        });
        await tx.query("INSERT INTO seen VALUES (1)");
      });
      // Held by the other connection now: the lock below waits for its commit.
      await held;
      const counted = db.transaction(async (tx) => {
        const [, rows] = await Promise.all([
          tx.query("SELECT pg_advisory_xact_lock(42)"),
          tx.query<{ n: number }>("SELECT count(*)::int AS n FROM seen"),
        ]);
        return rows[0]?.n;
      });
      release();
      await holding;
      expect(await counted).toBe(1);
    } finally {
      await other.close();
      await db.close();
    }
  });
});

describe("statements a transaction sends without waiting for their answer", () => {
  for (const dialect of dialects) {
    it(`are committed with the transaction (${dialect})`, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await db.exec("CREATE TABLE sent (n integer PRIMARY KEY)");
        const result = await db.transaction(async (tx) => {
          await tx.send("INSERT INTO sent VALUES ($1)", [1]);
          await tx.send("INSERT INTO sent VALUES ($1)", [2]);
          return "done";
        });
        expect(result).toBe("done");
        expect(await db.query("SELECT n FROM sent ORDER BY n")).toEqual([{ n: 1 }, { n: 2 }]);
      } finally {
        await db.close();
      }
    });

    it(`fail the transaction with their own error when one fails, and nothing of it is committed (${dialect})`, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await db.exec("CREATE TABLE sent (n integer PRIMARY KEY)");
        await expect(
          db.transaction(async (tx) => {
            await tx.query("INSERT INTO sent VALUES (1)");
            await tx.send("INSERT INTO sent VALUES ($1)", [1]);
            // Sent after the failing one: PostgreSQL skips it in the aborted transaction.
            await tx.send("INSERT INTO sent VALUES ($1)", [2]);
          }),
        ).rejects.toThrow(/duplicate key/);
        expect(await db.query("SELECT n FROM sent")).toEqual([]);
        // The connection is clean for the next transaction.
        await db.transaction((tx) => tx.send("INSERT INTO sent VALUES ($1)", [3]));
        expect(await db.query("SELECT n FROM sent")).toEqual([{ n: 3 }]);
      } finally {
        await db.close();
      }
    });
  }
});
