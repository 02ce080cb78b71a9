import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type Database, openPglite, openPostgres, wrapPglite } from "./database.js";
import { migrate } from "./migrate.js";
import { migrations } from "./migrations.js";

/**
 * Fresh, migrated databases for tests. They live here, beside the migrations they apply, so this
 * package's own tests can use them; every other package gets them through @leasehold/test-kit.
 * PostgreSQL tests get a database of their own on the server at LEASEHOLD_TEST_DATABASE_URL (default: the
 * local server); PGlite tests load a migrated template, because creating a PGlite database takes seconds.
 */

export type Dialect = Database["dialect"];
export const dialects: readonly Dialect[] = ["pglite", "postgres"];

export const adminDatabaseUrl = (): string =>
  process.env.LEASEHOLD_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A migrated, empty database; `close` also drops it. */
export async function createTestDatabase(dialect: Dialect): Promise<Database & { url?: string }> {
  return dialect === "pglite"
    ? openPglite({ loadDataDir: await pgliteTemplate() })
    : createPostgresDatabase();
}

/**
 * A new, migrated database on the test server (or on the server `adminUrl` points at); returns its URL
 * too, for child processes.
 */
export async function createPostgresDatabase(
  adminUrl: string = adminDatabaseUrl(),
): Promise<Database & { url: string }> {
  const name = `lh_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString());
  await migrate(db);
  return {
    ...db,
    url: url.toString(),
    async close() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

async function pgliteTemplate(): Promise<Blob> {
  const version = createHash("sha256")
    .update(migrations.map((m) => m.sql).join("\n"))
    .digest("hex")
    .slice(0, 12);
  const path = join(tmpdir(), `leasehold-pglite-template-${version}.tar`);
  if (!existsSync(path)) {
    const pglite = new PGlite();
    await migrate(wrapPglite(pglite));
    const dump = Buffer.from(await (await pglite.dumpDataDir("none")).arrayBuffer());
    await pglite.close();
    // Write then rename, so a parallel test worker never reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, dump);
    renameSync(partial, path);
  }
  return new Blob([readFileSync(path)]);
}
