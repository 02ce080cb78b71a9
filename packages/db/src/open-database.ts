import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { lockDataDir } from "./data-dir-lock.js";
import { type Database, openPglite, openPostgres } from "./database.js";
import { migrate } from "./migrate.js";

/**
 * The database Leasehold runs on: PostgreSQL at `databaseUrl` when set, otherwise embedded PGlite
 * under `dataDir` (one process only: PGlite cannot be shared between processes). Migrated on open:
 * through `migrationUrl` (the tables' owner) when set, which then grants `databaseUrl`'s role what it
 * needs and no more; otherwise through `databaseUrl` itself (one role that owns the tables).
 */
export async function openDatabase(options: {
  databaseUrl: string | undefined;
  migrationUrl?: string | undefined;
  dataDir: string;
}): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    const db = openPostgres(options.databaseUrl);
    try {
      await migratePostgres(db, options.migrationUrl);
    } catch (error) {
      await db.close();
      throw error;
    }
    return db;
  }
  if (options.migrationUrl !== undefined) {
    throw new Error("DATABASE_MIGRATION_URL is set without DATABASE_URL: set both, or neither");
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(options.dataDir);
  try {
    const db = await openPglite({ dataDir: join(options.dataDir, "pgdata") });
    await migrate(db).catch(async (error: unknown) => {
      await db.close();
      throw error;
    });
    return {
      ...db,
      async close() {
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

async function migratePostgres(app: Database, migrationUrl: string | undefined): Promise<void> {
  if (migrationUrl === undefined) {
    await migrate(app).catch((error: unknown) => {
      throw isInsufficientPrivilege(error)
        ? new Error(
            "the database schema needs migrating, and DATABASE_URL's role may not change it: set DATABASE_MIGRATION_URL to the owner role's URL (README, \"Database roles\")",
            { cause: error },
          )
        : error;
    });
    return;
  }
  const [role] = await app.query<{ name: string }>("SELECT current_user AS name");
  if (!role) throw new Error("the database did not say which role DATABASE_URL logs in as");
  const owner = openPostgres(migrationUrl, { maxConnections: 1 });
  try {
    await migrate(owner, { appRole: role.name });
  } finally {
    await owner.close();
  }
}

// PostgreSQL's "insufficient_privilege", also raised for "must be owner of table".
const isInsufficientPrivilege = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === "42501";
