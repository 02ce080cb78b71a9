import { grantAppRole } from "./app-role-grants.js";
import type { Database } from "./database.js";
import { migrations } from "./migrations.js";

// Any constant shared by every process that migrates this schema; keeps two starting apps
// (API and worker) from applying the same migration at once.
const MIGRATION_LOCK = 7_324_117;

/**
 * Applies the migrations this database has not seen yet. Safe to call from every process at start.
 * An up-to-date database is only read, so an application role that may not change the schema starts
 * on it. With `appRole`, `db` is the owner's connection, and the application role's privileges are
 * (re)granted in the same transaction, every time.
 */
export async function migrate(db: Database, options: { appRole?: string } = {}): Promise<string[]> {
  if (options.appRole === undefined && (await pendingMigrations(db)).length === 0) return [];
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await tx.query<{ id: string }>("SELECT id FROM schema_migrations")).map((row) => row.id),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (id) VALUES ($1)", [migration.id]);
      applied.push(migration.id);
    }
    if (options.appRole !== undefined) await grantAppRole(tx, options.appRole);
    return applied;
  });
}

/** The ids of the migrations `db` has not applied, found without changing anything. */
export async function pendingMigrations(db: Pick<Database, "query">): Promise<string[]> {
  const [table] = await db.query<{ exists: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS exists",
  );
  const done = table?.exists
    ? new Set((await db.query<{ id: string }>("SELECT id FROM schema_migrations")).map((row) => row.id))
    : new Set<string>();
  return migrations.map((m) => m.id).filter((id) => !done.has(id));
}
