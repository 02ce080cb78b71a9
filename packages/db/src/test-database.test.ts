import pg from "pg";
import { describe, expect, it } from "vitest";
import { adminDatabaseUrl, createPostgresDatabase, createTestDatabase, dialects } from "./test-database.js";

describe.each(dialects)("a test database on %s", (dialect) => {
  it("is migrated and empty", async () => {
    const db = await createTestDatabase(dialect);
    try {
      const [row] = await db.query<{ count: string }>("SELECT count(*)::text AS count FROM access_requests");
      expect(row?.count).toBe("0");
    } finally {
      await db.close();
    }
  });
});

describe("a PostgreSQL test database", () => {
  it("is a database of its own, dropped by close()", async () => {
    const db = await createPostgresDatabase();
    const name = new URL(db.url).pathname.slice(1);
    const exists = async () => {
      const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
      await admin.connect();
      try {
        return (await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
      } finally {
        await admin.end();
      }
    };
    expect(await exists()).toBe(true);
    await db.close();
    expect(await exists()).toBe(false);
  });
});
