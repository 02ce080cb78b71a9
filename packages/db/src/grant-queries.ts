import type { Grant, GrantState } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";
import { COLUMNS, type GrantRow, toGrant } from "./grant-row.js";

/** How many of something are held, and the earliest known moment one of them ends (null: unknown). */
export type HeldCount = { readonly count: number; readonly nextFreeAt: Date | null };

/** Held grants of one principal on one target, for counting a lease rule's share. */
export type HeldByPrincipal = HeldCount & { readonly principalId: string };

/** What the drift reconciliation needs to know of a grant: whether it may still need its backend objects. */
export type GrantOwnership = Pick<
  Grant,
  "id" | "state" | "durationSeconds" | "createdAt" | "expiresAt" | "endedAt"
> & { readonly releasedAt: Date | null };

/**
 * The caps' counts (caps.ts in the broker), run before every grant and lease while the scope's lock is
 * held: prepared once per connection, each served by a partial index of the grants that may count
 * (migration 0016), so they read those and not every grant ever made.
 */
const COUNT_HELD = {
  name: "leasehold_count_held",
  text: `SELECT count(*)::int AS count, min(expires_at) AS next_free_at FROM grants
         WHERE principal_id = $1 AND state IN ('issuing', 'active') AND (request_id IS NULL) = $2`,
} as const;
const COUNT_LEASES_BY_PRINCIPAL = {
  name: "leasehold_count_leases_by_principal",
  text: `SELECT principal_id, count(*)::int AS count, min(expires_at) AS next_free_at FROM grants
         WHERE target_id = $1 AND request_id IS NULL AND state IN ('issuing', 'active')
         GROUP BY principal_id`,
} as const;

/** The first 16 hex digits of a grant id, as a SQL role's name carries them. */
const ID_PREFIX = /^[0-9a-f]{16}$/;

/**
 * Reads over many grants, for the caps (with the locks they count under), the sweeps, the drift scan
 * and shared roles' denials. None reads or writes a seal, so they live apart from one grant's sealed
 * writes (grant-repo.ts, which serves them as part of the grants' repository).
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a repository: one query per method over the executor it closes over.
export function grantQueries(sql: SqlExecutor) {
  const many = async (text: string, params: readonly unknown[]) =>
    (await sql.query<GrantRow>(text, params)).map(toGrant);
  return {
    /**
     * Takes a lock on `scope` (such as `principal:<id>`) until the transaction ends. Callers that
     * count-then-insert against a cap take it first, so two of them on one scope run one after the
     * other and the second counts the first's row. Scopes are taken in a fixed order to avoid deadlock.
     */
    async lockScope(scope: string): Promise<void> {
      await sql.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`leasehold:${scope}`]);
    },

    /** A principal's grants (leases, or grants from requests) issuing or active. */
    async countHeld(principalId: string, kind: "lease" | "requested"): Promise<HeldCount> {
      const [row] = await sql.query<{ count: number; next_free_at: Date | null }>(
        COUNT_HELD.text,
        [principalId, kind === "lease"],
        COUNT_HELD.name,
      );
      return { count: row?.count ?? 0, nextFreeAt: row?.next_free_at ?? null };
    },

    /** Leases on a target issuing or active, per principal. */
    async countLeasesByPrincipal(targetId: string): Promise<HeldByPrincipal[]> {
      const rows = await sql.query<{ principal_id: string; count: number; next_free_at: Date | null }>(
        COUNT_LEASES_BY_PRINCIPAL.text,
        [targetId],
        COUNT_LEASES_BY_PRINCIPAL.name,
      );
      return rows.map((r) => ({ principalId: r.principal_id, count: r.count, nextFreeAt: r.next_free_at }));
    },

    listByPrincipal: (principalId: string, limit: number) =>
      many(`SELECT ${COLUMNS} FROM grants WHERE principal_id = $1 ORDER BY created_at DESC LIMIT $2`, [
        principalId,
        limit,
      ]),

    /** One principal's grants on one target, newest first: a request's history for its reviewers. */
    listByPrincipalOnTarget: (principalId: string, targetId: string, limit: number) =>
      many(
        `SELECT ${COLUMNS} FROM grants WHERE principal_id = $1 AND target_id = $2
         ORDER BY created_at DESC LIMIT $3`,
        [principalId, targetId, limit],
      ),

    /** Grants whose credential may still work although their deadline has passed. */
    listPastDeadline: (now: Date, debtRestedBefore: Date, limit: number) =>
      many(
        `SELECT ${COLUMNS} FROM grants
         WHERE expires_at <= $1
           AND (state = 'active' OR (state = 'revocation_failed' AND updated_at <= $2))
         ORDER BY expires_at LIMIT $3`,
        [now, debtRestedBefore, limit],
      ),

    /** Grants that have been issuing or revoking since before `before`: their job may be lost. */
    listInTransit: (before: Date, limit: number) =>
      many(
        `SELECT ${COLUMNS} FROM grants WHERE state IN ('issuing', 'revoking') AND updated_at <= $1
         ORDER BY updated_at LIMIT $2`,
        [before, limit],
      ),

    /** Revocation debt last attempted before `before`: grants whose revocation gave up and is unsettled. */
    listRevocationDebt: (before: Date, limit: number) =>
      many(
        `SELECT ${COLUMNS} FROM grants WHERE state = 'revocation_failed' AND updated_at <= $1
         ORDER BY updated_at LIMIT $2`,
        [before, limit],
      ),

    /**
     * Grants whose id starts with one of the 16-hex-digit prefixes (dashes left out), for the drift
     * scan. A prefix is a range of the primary key (ids compare byte by byte, as their hex digits read),
     * so each is one index lookup: matching the text of every id read the whole table (57 ms at 200,000
     * grants, on every scan of every SQL target). Anything but 16 hex digits names no grant.
     */
    async ownershipByIdPrefix(prefixes: readonly string[]): Promise<GrantOwnership[]> {
      const valid = prefixes.map((p) => p.toLowerCase()).filter((p) => ID_PREFIX.test(p));
      if (valid.length === 0) return [];
      const rows = await sql.query<{
        id: string;
        state: GrantState;
        duration_seconds: number;
        created_at: Date;
        expires_at: Date | null;
        ended_at: Date | null;
        released_at: Date | null;
      }>(
        `SELECT g.id, g.state, g.duration_seconds, g.created_at, g.expires_at, g.ended_at, g.released_at
           FROM unnest($1::uuid[], $2::uuid[]) AS r (lowest, highest)
           JOIN grants g ON g.id BETWEEN r.lowest AND r.highest`,
        [valid.map((p) => `${p}${"0".repeat(16)}`), valid.map((p) => `${p}${"f".repeat(16)}`)],
      );
      return rows.map((row) => ({
        id: row.id,
        state: row.state,
        durationSeconds: row.duration_seconds,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        endedAt: row.ended_at,
        releasedAt: row.released_at,
      }));
    },

    /**
     * What a shared backend must refuse or keep serving for these targets (an IAM role several
     * targets use): grants being or having been revoked whose clean-up has not run, and grants
     * issuing or active. `excluding` leaves out a grant whose clean-up is under way.
     */
    listForDenials: (targetIds: readonly string[], excluding: string | null) =>
      many(
        `SELECT ${COLUMNS} FROM grants
         WHERE target_id = ANY($1) AND released_at IS NULL
           AND state IN ('issuing', 'active', 'revoking', 'revoked', 'revocation_failed')
           AND ($2::uuid IS NULL OR id <> $2::uuid)
         ORDER BY created_at, id`,
        [targetIds, excluding],
      ),

    /** Ended grants whose deadline passed before `before` and whose provider clean-up has not run. */
    listUnreleased: (before: Date, limit: number) =>
      many(
        `SELECT ${COLUMNS} FROM grants
         WHERE state IN ('revoked', 'expired', 'failed') AND released_at IS NULL AND expires_at <= $1
         ORDER BY expires_at LIMIT $2`,
        [before, limit],
      ),
  };
}
