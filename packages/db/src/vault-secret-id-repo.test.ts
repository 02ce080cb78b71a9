import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { createTestDatabase, dialects } from "./test-database.js";
import { vaultSecretIdRepo } from "./vault-secret-id-repo.js";

/** The table's own rules, whatever the store does: one current, one pending, wiped when retired. */
describe.each(dialects)("vault_secret_ids on %s", (dialect) => {
  let db: Database;
  beforeEach(async () => {
    db = await createTestDatabase(dialect);
  });
  afterEach(() => db.close());

  const sealed = Buffer.from("sealed");
  const at = new Date("2026-12-06T04:00:00Z");
  const promote = (id: string) => db.transaction((tx) => vaultSecretIdRepo(tx).promote(id, at));

  it("moves pending → current → retired, wiping the sealed value when retired", async () => {
    const repo = vaultSecretIdRepo(db);
    const [first, second] = [randomUUID(), randomUUID()];
    expect(await repo.addPending({ id: first, sealed, at })).toBe(true);
    // A second pending is refused by the table, not just by the store; the same one is not added twice.
    expect(await repo.addPending({ id: randomUUID(), sealed, at })).toBe(false);
    expect(await repo.addPending({ id: first, sealed, at })).toBe(false);
    expect(await promote(first)).toBe(true);
    expect(await repo.current()).toMatchObject({ id: first, sealed });

    expect(await repo.addPending({ id: second, sealed, at })).toBe(true);
    expect(await promote(second)).toBe(true);
    expect(await repo.current()).toMatchObject({ id: second, sealed });
    expect(await repo.pending()).toBeUndefined();
    expect(await promote(second)).toBe(false);

    const rows = await db.query<{ id: string; state: string; sealed: Uint8Array | null }>(
      "SELECT id, state, sealed FROM vault_secret_ids ORDER BY state",
    );
    expect(rows.map((row) => ({ ...row, sealed: row.sealed && Buffer.from(row.sealed) }))).toEqual([
      { id: second, state: "current", sealed },
      { id: first, state: "retired", sealed: null },
    ]);
  });

  it("retires a pending one that will never be current, and only a pending one", async () => {
    const repo = vaultSecretIdRepo(db);
    const [abandoned, current] = [randomUUID(), randomUUID()];
    await repo.addPending({ id: current, sealed, at });
    await promote(current);
    await repo.addPending({ id: abandoned, sealed, at });
    expect(await repo.retirePending(current, at)).toBe(false);
    expect(await repo.retirePending(abandoned, at)).toBe(true);
    expect(await repo.pending()).toBeUndefined();
    expect(await repo.current()).toMatchObject({ id: current, sealed });
    expect(await repo.addPending({ id: randomUUID(), sealed, at })).toBe(true);
  });

  it("refuses a retired row that keeps its sealed value", async () => {
    await expect(
      db.query(
        "INSERT INTO vault_secret_ids (id, state, sealed, created_at, updated_at) VALUES ($1, 'retired', $2, $3, $3)",
        [randomUUID(), sealed, at],
      ),
    ).rejects.toThrow();
  });
});
