import {
  assertSchemaCompatibility,
  LATEST_SCHEMA_VERSION,
  runMigrations,
  SchemaMigrationRequiredError,
} from "bullmq";
import pg from "pg";
import type { PostgresQueueConnection } from "./queue-connection.js";

/**
 * Brings the queue schema up to date before any queue opens, the way Leasehold's own tables are
 * migrated (README, "Database roles"):
 *
 * - with the owner's URL (DATABASE_MIGRATION_URL), BullMQ's migrations run as the owner, and
 *   DATABASE_URL's role gets what BullMQ does at run time: rows in every queue table, the sequences,
 *   and CREATE in this schema only (BullMQ makes a job-id sequence per queue on its first job);
 * - without it, DATABASE_URL's role migrates, unless the schema is already current: a process of an
 *   installation whose app role owns nothing then starts without touching it, and on an outdated
 *   schema stops, saying what to set.
 *
 * Returns the connection marked `migrated`, so BullMQ only checks the schema instead of taking its
 * migration lock (and needing CREATE on the database) in every queue and worker.
 */
export async function prepareQueueSchema(
  connection: PostgresQueueConnection,
  ownerUrl?: string,
): Promise<PostgresQueueConnection> {
  const { schema } = connection;
  if (ownerUrl) {
    const appRole = await withClient(connection.databaseUrl, currentRole);
    await withClient(ownerUrl, async (owner) => {
      await runMigrations(owner, schema);
      const [s, role] = [pg.escapeIdentifier(schema), pg.escapeIdentifier(appRole)];
      await owner.query(
        [
          `GRANT USAGE, CREATE ON SCHEMA ${s} TO ${role}`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`,
          `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`,
          `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${role}`,
        ].join(";\n"),
      );
    });
    return { ...connection, migrated: true };
  }
  await withClient(connection.databaseUrl, async (app) => {
    if ((await schemaVersion(app, schema)) >= LATEST_SCHEMA_VERSION) return;
    try {
      await runMigrations(app, schema);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "42501") throw error;
      throw new Error(
        `the queue schema "${schema}" needs migrating and DATABASE_URL's role may not: set DATABASE_MIGRATION_URL (README, "Database roles")`,
        { cause: error },
      );
    }
  });
  return { ...connection, migrated: true };
}

/** The schema's BullMQ migration version; 0 before the first. */
async function schemaVersion(client: pg.Client, schema: string): Promise<number> {
  try {
    return await assertSchemaCompatibility(client, schema);
  } catch (error) {
    if (error instanceof SchemaMigrationRequiredError) return 0;
    throw error;
  }
}

async function currentRole(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ role: string }>("SELECT current_user AS role");
  const role = rows[0]?.role;
  if (!role) throw new Error("PostgreSQL did not say which role DATABASE_URL connects as");
  return role;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
