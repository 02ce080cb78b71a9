import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { lockDataDir } from "./data-dir-lock.js";
import { type Database, openPglite, openPostgres } from "./database.js";
import { migrate } from "./migrate.js";

/**
 * The database Leasehold runs on: PostgreSQL at `databaseUrl` when set, otherwise embedded PGlite
 * under `dataDir` (one process only: PGlite cannot be shared between processes). Migrated on open.
 */
export async function openDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<Database> {
  if (options.databaseUrl !== undefined) return migrated(openPostgres(options.databaseUrl));
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(options.dataDir);
  try {
    const db = await migrated(await openPglite({ dataDir: join(options.dataDir, "pgdata") }));
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

async function migrated(db: Database): Promise<Database> {
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
