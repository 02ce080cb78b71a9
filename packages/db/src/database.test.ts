import { describe, expect, it } from "vitest";
import { openPostgres } from "./database.js";
import { adminDatabaseUrl, createPostgresDatabase } from "./test-database.js";

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
