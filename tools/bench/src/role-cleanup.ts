import pg from "pg";

/** Roles dropped per statement: DROP ROLE takes a list, and a few hundred names keep a statement small. */
const BATCH = 200;

/** `items` in consecutive slices of at most `size`. */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  if (!(Number.isInteger(size) && size > 0))
    throw new Error(`batch size must be a positive integer: ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Drops the named roles that exist, connected as the admin to the database where they were granted
 * privileges: DROP OWNED revokes those grants (DROP ROLE refuses while any remain), then DROP ROLE.
 * Names that do not exist are skipped, so it may be called again for the same names.
 */
export async function dropRoles(adminUrl: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const batch of inBatches([...new Set(names)], BATCH)) {
      const { rows } = await client.query<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY($1)",
        [batch],
      );
      if (rows.length === 0) continue;
      const list = rows.map((r) => quoteIdent(r.rolname)).join(", ");
      await client.query("BEGIN");
      try {
        await client.query(`DROP OWNED BY ${list}`);
        await client.query(`DROP ROLE ${list}`);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.end();
  }
}
