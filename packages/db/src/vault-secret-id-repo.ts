import type { SqlExecutor } from "./database.js";

/**
 * Leasehold's own Vault AppRole secret ids (table vault_secret_ids), the secret store of its rotation:
 * a run stages one as `pending` (the row's id is the run's id), then makes it `current` (the one before
 * becomes `retired`, its sealed value wiped). What is stored is sealed by the broker: the secret id and
 * its accessor never reach this module in the clear.
 */
export type VaultSecretIdState = "pending" | "current" | "retired";

export type StoredVaultSecretId = {
  readonly id: string;
  readonly state: VaultSecretIdState;
  /** Null once retired. */
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
  const inState = async (state: "pending" | "current") =>
    (
      await sql.query<Row>(
        "SELECT id, state, sealed, created_at FROM vault_secret_ids WHERE state = $1 ORDER BY created_at, id",
        [state],
      )
    )
      .map(toStored)
      .at(0);
  const RETIRE = "UPDATE vault_secret_ids SET state = 'retired', sealed = NULL, updated_at = $1";
  return {
    /** The secret id every replica logs in with; undefined before the first rotation. */
    current: () => inState("current"),
    /** The one a run staged and has not yet made current. */
    pending: () => inState("pending"),

    /** Stages a run's secret id; false when one is already pending (this run's, or another's). */
    async addPending(entry: { id: string; sealed: Buffer; at: Date }) {
      const rows = await sql.query<{ id: string }>(
        `INSERT INTO vault_secret_ids (id, state, sealed, created_at, updated_at) VALUES ($1, 'pending', $2, $3, $3)
         ON CONFLICT DO NOTHING RETURNING id`,
        [entry.id, entry.sealed, entry.at],
      );
      return rows.length === 1;
    },

    /**
     * Makes the pending one current and retires the current one, in the caller's transaction. False
     * when `pendingId` is not pending (another run's, or promoted already).
     */
    async promote(pendingId: string, at: Date): Promise<boolean> {
      const still = await sql.query<{ id: string }>(
        "SELECT id FROM vault_secret_ids WHERE id = $1 AND state = 'pending' FOR UPDATE",
        [pendingId],
      );
      if (still.length === 0) return false;
      await sql.query(`${RETIRE} WHERE state = 'current'`, [at]);
      await sql.query("UPDATE vault_secret_ids SET state = 'current', updated_at = $2 WHERE id = $1", [
        pendingId,
        at,
      ]);
      return true;
    },

    /** A pending one that will never be current (its run failed): retired, its sealed value wiped. */
    async retirePending(pendingId: string, at: Date): Promise<boolean> {
      const rows = await sql.query(`${RETIRE} WHERE id = $2 AND state = 'pending' RETURNING id`, [
        at,
        pendingId,
      ]);
      return rows.length === 1;
    },
  };
}
