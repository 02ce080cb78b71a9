import type { SqlExecutor } from "./database.js";

/**
 * Leasehold's own Vault AppRole secret ids (table vault_secret_ids). A rotation mints one as `pending`,
 * makes it `current` once it logged in (the one before becomes `retired`), then destroys the retired
 * one in Vault and wipes it (`destroyed`). What is stored is sealed by the broker: the secret id and
 * its accessor never reach this module in the clear.
 */
export type VaultSecretIdState = "pending" | "current" | "retired" | "destroyed";

export type StoredVaultSecretId = {
  readonly id: string;
  readonly state: VaultSecretIdState;
  /** Null once destroyed. */
  readonly sealed: Buffer | null;
  readonly createdAt: Date;
};

type Row = { id: string; state: VaultSecretIdState; sealed: Uint8Array | null; created_at: Date };

const toStored = (row: Row): StoredVaultSecretId => ({
  id: row.id,
  state: row.state,
  // PGlite answers bytea as a Uint8Array, node-postgres as a Buffer.
  sealed: row.sealed === null ? null : Buffer.from(row.sealed),
  createdAt: row.created_at,
});

export type VaultSecretIdRepo = ReturnType<typeof vaultSecretIdRepo>;

export function vaultSecretIdRepo(sql: SqlExecutor) {
  const inState = async (state: VaultSecretIdState) =>
    (
      await sql.query<Row>(
        "SELECT id, state, sealed, created_at FROM vault_secret_ids WHERE state = $1 ORDER BY created_at, id",
        [state],
      )
    ).map(toStored);
  return {
    /** The secret id every replica logs in with; undefined before the first rotation. */
    current: async () => (await inState("current"))[0],
    /** The one a rotation minted and has not yet made current. */
    pending: async () => (await inState("pending"))[0],
    /** Replaced ones still to be destroyed in Vault. */
    retired: () => inState("retired"),

    /** Adds a pending (or, for the bootstrap secret id, current) one; false when one is already in that state. */
    async add(entry: { id: string; state: "pending" | "current"; sealed: Buffer; at: Date }) {
      const rows = await sql.query<{ id: string }>(
        `INSERT INTO vault_secret_ids (id, state, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT DO NOTHING RETURNING id`,
        [entry.id, entry.state, entry.sealed, entry.at],
      );
      return rows.length === 1;
    },

    /**
     * Makes the pending one current and the current one retired, in the caller's transaction. False
     * when `pendingId` is no longer pending (another worker promoted it first).
     */
    async promote(pendingId: string, at: Date): Promise<boolean> {
      const still = await sql.query<{ id: string }>(
        "SELECT id FROM vault_secret_ids WHERE id = $1 AND state = 'pending' FOR UPDATE",
        [pendingId],
      );
      if (still.length === 0) return false;
      await sql.query(
        "UPDATE vault_secret_ids SET state = 'retired', updated_at = $1 WHERE state = 'current'",
        [at],
      );
      await sql.query("UPDATE vault_secret_ids SET state = 'current', updated_at = $2 WHERE id = $1", [
        pendingId,
        at,
      ]);
      return true;
    },

    /** A pending one that will never be current (it did not log in): it goes to be destroyed. */
    async retire(pendingId: string, at: Date): Promise<boolean> {
      const rows = await sql.query<{ id: string }>(
        "UPDATE vault_secret_ids SET state = 'retired', updated_at = $2 WHERE id = $1 AND state = 'pending' RETURNING id",
        [pendingId, at],
      );
      return rows.length === 1;
    },

    /** Vault no longer has it: the sealed value is wiped. False when it was not retired. */
    async destroyed(id: string, at: Date): Promise<boolean> {
      const rows = await sql.query<{ id: string }>(
        `UPDATE vault_secret_ids SET state = 'destroyed', sealed = NULL, updated_at = $2
         WHERE id = $1 AND state = 'retired' RETURNING id`,
        [id, at],
      );
      return rows.length === 1;
    },
  };
}
