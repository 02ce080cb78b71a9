import type { SqlExecutor } from "./database.js";
import { grantMac, isSealed, type SealedRow, sealedFieldsOf } from "./grant-seal.js";
import type { Keyring } from "./keyring.js";

/**
 * What the background re-seal reads and writes after a master key rotation: sealed values whose
 * leading bytes are not `currentPrefix` (the cipher's mark of the current key, passed in so that this
 * module knows no sealed format), and grant MACs not made under the current key. Every read locks its
 * rows and skips rows another worker holds, so several workers share the work without waiting; the
 * caller changes them in the same transaction. `after` is an id to continue past, so a value that
 * cannot be moved (one changed outside Leasehold) is passed over instead of read again and again.
 */

/** A grant's sealed credential, with what it is bound to. */
export type SealedCredential = {
  readonly id: string;
  readonly principalId: string;
  readonly targetId: string;
  readonly sealed: Buffer;
};

/** How many values are still under a previous master key. */
export type UnderPreviousKeys = {
  readonly credentials: number;
  readonly stagedValues: number;
  readonly grantMacs: number;
  /** Leasehold's own stored Vault AppRole secret ids (pending or current). */
  readonly vaultSecretIds: number;
};

// An id below every uuid: where a pass starts.
export const FIRST_ID = "00000000-0000-0000-0000-000000000000";

const NOT_CURRENT = (column: string) => `substring(${column} from 1 for length($1::bytea)) <> $1::bytea`;
const MAC_NOT_CURRENT = "left(mac, length($1::text)) <> $1::text";

export type ResealRepo = ReturnType<typeof resealRepo>;

export function resealRepo(sql: SqlExecutor, grantRing: Keyring) {
  const macPrefix = `${grantRing.current.id}:`;
  return {
    ...vaultSecretIdReseal(sql),
    /** Active grants' credentials not under the current key, after `after`, in id order, locked. */
    async credentials(currentPrefix: Buffer, after: string, limit: number): Promise<SealedCredential[]> {
      const rows = await sql.query<{
        id: string;
        principal_id: string;
        target_id: string;
        credential: Uint8Array;
      }>(
        `SELECT id, principal_id, target_id, credential FROM grants
         WHERE state = 'active' AND credential IS NOT NULL AND ${NOT_CURRENT("credential")} AND id > $2
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [currentPrefix, after, limit],
      );
      return rows.map((r) => ({
        id: r.id,
        principalId: r.principal_id,
        targetId: r.target_id,
        sealed: Buffer.from(r.credential),
      }));
    },

    async replaceCredential(id: string, sealed: Buffer): Promise<void> {
      await sql.query("UPDATE grants SET credential = $2 WHERE id = $1 AND state = 'active'", [id, sealed]);
    },

    /** Running rotation runs' staged values not under the current key, after `after`, in id order, locked. */
    async stagedValues(
      currentPrefix: Buffer,
      after: string,
      limit: number,
    ): Promise<{ id: string; sealed: Buffer }[]> {
      const rows = await sql.query<{ id: string; pending: Uint8Array }>(
        `SELECT id, pending FROM rotation_runs
         WHERE state = 'running' AND pending IS NOT NULL AND ${NOT_CURRENT("pending")} AND id > $2
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [currentPrefix, after, limit],
      );
      return rows.map((r) => ({ id: r.id, sealed: Buffer.from(r.pending) }));
    },

    async replaceStagedValue(id: string, sealed: Buffer): Promise<void> {
      await sql.query("UPDATE rotation_runs SET pending = $2 WHERE id = $1 AND state = 'running'", [
        id,
        sealed,
      ]);
    },

    /**
     * MACs the grants after `after` (in id order, up to `limit`) whose MAC is under a previous key anew
     * under the current one. A row whose MAC matches no key of the ring was changed outside Leasehold:
     * it is left as it is (its id is returned in `unsealed`), never vouched for.
     */
    async grantMacs(
      after: string,
      limit: number,
    ): Promise<{ readonly read: number; readonly last: string; readonly unsealed: readonly string[] }> {
      const rows = await sql.query<SealedRow & { mac: string }>(
        `SELECT id, request_id, target_id, principal_id, duration_seconds, state, expires_at, issue_attempts, mac
         FROM grants WHERE mac IS NOT NULL AND ${MAC_NOT_CURRENT} AND id > $2
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [macPrefix, after, limit],
      );
      const sealed = rows.filter((row) => isSealed(grantRing, sealedFieldsOf(row), row.mac));
      if (sealed.length > 0) {
        await sql.query(
          `UPDATE grants SET mac = m.mac FROM unnest($1::uuid[], $2::text[]) AS m(id, mac) WHERE grants.id = m.id`,
          [sealed.map((row) => row.id), sealed.map((row) => grantMac(grantRing, sealedFieldsOf(row)))],
        );
      }
      const moved = new Set(sealed.map((row) => row.id));
      return {
        read: rows.length,
        last: rows.at(-1)?.id ?? after,
        unsealed: rows.filter((row) => !moved.has(row.id)).map((row) => row.id),
      };
    },

    /** What is still under a previous key: when all are zero, the previous keys can be dropped. */
    async underPreviousKeys(currentPrefix: Buffer): Promise<UnderPreviousKeys> {
      const [row] = await sql.query<{ credentials: number; staged: number; macs: number; vault: number }>(
        `SELECT
           (SELECT count(*)::int FROM grants
             WHERE state = 'active' AND credential IS NOT NULL AND ${NOT_CURRENT("credential")}) AS credentials,
           (SELECT count(*)::int FROM rotation_runs
             WHERE state = 'running' AND pending IS NOT NULL AND ${NOT_CURRENT("pending")}) AS staged,
           (SELECT count(*)::int FROM grants WHERE mac IS NOT NULL AND left(mac, length($2::text)) <> $2::text) AS macs,
           (SELECT count(*)::int FROM vault_secret_ids
             WHERE sealed IS NOT NULL AND ${NOT_CURRENT("sealed")}) AS vault`,
        [currentPrefix, macPrefix],
      );
      return {
        credentials: Number(row?.credentials ?? 0),
        stagedValues: Number(row?.staged ?? 0),
        grantMacs: Number(row?.macs ?? 0),
        vaultSecretIds: Number(row?.vault ?? 0),
      };
    },
  };
}

/** The re-seal's reads and writes of Leasehold's own stored Vault secret ids (table vault_secret_ids). */
function vaultSecretIdReseal(sql: SqlExecutor) {
  return {
    /** Leasehold's stored Vault secret ids (pending or current) not under the current key, locked. */
    async vaultSecretIds(
      currentPrefix: Buffer,
      after: string,
      limit: number,
    ): Promise<{ id: string; sealed: Buffer }[]> {
      const rows = await sql.query<{ id: string; sealed: Uint8Array }>(
        `SELECT id, sealed FROM vault_secret_ids
         WHERE sealed IS NOT NULL AND ${NOT_CURRENT("sealed")} AND id > $2
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [currentPrefix, after, limit],
      );
      return rows.map((r) => ({ id: r.id, sealed: Buffer.from(r.sealed) }));
    },

    async replaceVaultSecretId(id: string, sealed: Buffer): Promise<void> {
      await sql.query("UPDATE vault_secret_ids SET sealed = $2 WHERE id = $1 AND sealed IS NOT NULL", [
        id,
        sealed,
      ]);
    },
  };
}
