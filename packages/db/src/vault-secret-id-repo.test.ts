import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { createTestDatabase, dialects } from "./test-database.js";
import { vaultSecretIdRepo } from "./vault-secret-id-repo.js";

/** The table's own rules, which hold whatever the service does: one current, one pending, wiped when destroyed. */
describe.each(dialects)("vault_secret_ids on %s", (dialect) => {
  let db: Database;
  beforeEach(async () => {
    db = await createTestDatabase(dialect);
  });
  afterEach(() => db.close());

  const sealed = Buffer.from("sealed");
  const at = new Date("2026-12-06T04:00:00Z");

  it("moves pending → current → retired → destroyed, wiping the sealed value at the end", async () => {
    const repo = vaultSecretIdRepo(db);
    const [first, second] = [randomUUID(), randomUUID()];
    expect(await repo.add({ id: first, state: "current", sealed, at })).toBe(true);
    expect(await repo.add({ id: second, state: "pending", sealed, at })).toBe(true);
    // A second pending (or current) is refused by the table, not just by the service.
    expect(await repo.add({ id: randomUUID(), state: "pending", sealed, at })).toBe(false);
    expect(await repo.add({ id: randomUUID(), state: "current", sealed, at })).toBe(false);

    expect(await db.transaction((tx) => vaultSecretIdRepo(tx).promote(second, at))).toBe(true);
    expect(await repo.current()).toMatchObject({ id: second, sealed });
    expect((await repo.retired()).map((r) => r.id)).toEqual([first]);
    expect(await repo.pending()).toBeUndefined();
    expect(await db.transaction((tx) => vaultSecretIdRepo(tx).promote(second, at))).toBe(false);

    expect(await repo.destroyed(first, at)).toBe(true);
    expect(await repo.destroyed(first, at)).toBe(false);
    const rows = await db.query<{ id: string; state: string; sealed: Uint8Array | null }>(
      "SELECT id, state, sealed FROM vault_secret_ids ORDER BY state",
    );
    expect(rows.map((row) => ({ ...row, sealed: row.sealed && Buffer.from(row.sealed) }))).toEqual([
      { id: second, state: "current", sealed },
      { id: first, state: "destroyed", sealed: null },
    ]);
  });

  it("refuses a destroyed row that keeps its sealed value", async () => {
    await expect(
      db.query(
        "INSERT INTO vault_secret_ids (id, state, sealed, created_at, updated_at) VALUES ($1, 'destroyed', $2, $3, $3)",
        [randomUUID(), sealed, at],
      ),
    ).rejects.toThrow();
  });
});
