import type { Grant, GrantState } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";
import { grantQueries } from "./grant-queries.js";
import { COLUMNS, type GrantRow, toGrant } from "./grant-row.js";
import { grantMac, isSealed, lockSealed, reseal } from "./grant-seal.js";
import type { Keyring } from "./keyring.js";

/** Fields a state transition may set alongside the state. */
export type GrantChanges = {
  issuedAt?: Date;
  expiresAt?: Date;
  endedAt?: Date;
  providerRef?: Record<string, string>;
  durationSeconds?: number;
  /** A sealed credential, or null to wipe it. */
  credential?: Buffer | null;
  lastError?: string | null;
  releasedAt?: Date;
};

const CHANGE_COLUMNS: Record<keyof GrantChanges, string> = {
  issuedAt: "issued_at",
  expiresAt: "expires_at",
  endedAt: "ended_at",
  durationSeconds: "duration_seconds",
  providerRef: "provider_ref",
  credential: "credential",
  lastError: "last_error",
  releasedAt: "released_at",
};

/**
 * The SET list of a transition: state ($3) and updated_at ($4), then each change given, appended to
 * `params` as further placeholders.
 */
function setClause(changes: GrantChanges, params: unknown[]): string {
  const sets = ["state = $3", "updated_at = $4"];
  for (const [field, value] of Object.entries(changes) as [keyof GrantChanges, unknown][]) {
    if (value === undefined) continue;
    params.push(field === "providerRef" ? JSON.stringify(value) : value);
    sets.push(`${CHANGE_COLUMNS[field]} = $${params.length}${field === "providerRef" ? "::jsonb" : ""}`);
  }
  return sets.join(", ");
}

export type GrantRepo = ReturnType<typeof grantRepo>;

/** An issue attempt counted by `beginIssueAttempt`, and what was read alongside it. */
export type BegunAttempt<Read = undefined> = {
  readonly grant: Grant;
  /** Whether the row matched its MAC before the count (so it matches `grant` now). */
  readonly sealed: boolean;
  readonly read: Read;
};

/**
 * The read behind grants.get and every use of a lease (the API's hottest statement): prepared once per
 * connection. Exported so that the benchmark's fair floor (tools/bench) sends exactly the same read.
 */
export const GRANT_BY_ID = {
  name: "leasehold_grant_by_id",
  text: `SELECT ${COLUMNS} FROM grants WHERE id = $1`,
} as const;

/**
 * The read of a credential's delivery (grants.credentials, at the end of P1 in the benchmarks): prepared
 * once per connection. FOR SHARE is enough to keep the row from changing until the transaction ends,
 * and lets two deliveries of one grant read it at once (their audit appends take turns anyway).
 */
const GRANT_FOR_DELIVERY = {
  name: "leasehold_grant_for_delivery",
  text: `SELECT ${COLUMNS}, mac, CASE WHEN state = 'active' THEN credential END AS credential
         FROM grants WHERE id = $1 FOR SHARE`,
} as const;

/** A grant as its delivery reads it (`lockForDelivery`). */
export type DeliveryRead = {
  readonly grant: Grant;
  /** Whether the row's MAC matches the grant as read (grant-seal.ts). */
  readonly sealed: boolean;
  /** The sealed credential, while the grant is active and holds one. */
  readonly credential: Buffer | undefined;
};

/**
 * Grants: what was issued, its state, and (while active) its sealed credential. Every write of a
 * sealed field keeps the row's MAC (grant-seal.ts) under the ring's current key; it must run in a
 * transaction.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a repository: one query per method over the executor it closes over.
export function grantRepo(sql: SqlExecutor, key: Keyring) {
  const many = async (text: string, params: readonly unknown[], name?: string) =>
    (await sql.query<GrantRow>(text, params, name)).map(toGrant);
  const one = async (text: string, params: readonly unknown[], name?: string) =>
    (await many(text, params, name))[0];
  /**
   * Runs `change` on the grants of `ids`, re-sealing the changed rows that were sealed before, and
   * says which those are (the rest stay unsealed: Leasehold's write never vouches for them).
   * `alongside`: statements to send with the re-seal, given the changed rows; what they read is `read`.
   */
  const sealedChange = async <Read = undefined>(
    ids: readonly string[],
    change: () => Promise<Grant[]>,
    alongside?: (changed: Grant[]) => Promise<Read>,
  ) => {
    // The change goes out behind the lock without waiting for it; it runs after it all the same.
    const [sealedBefore, changed] = await Promise.all([lockSealed(sql, key, ids), change()]);
    const [, read] = await Promise.all([reseal(sql, key, changed, sealedBefore), alongside?.(changed)]);
    return { changed, sealed: sealedBefore, read };
  };

  function beginIssueAttempt(
    id: string,
    at: Date,
    from?: readonly GrantState[],
  ): Promise<BegunAttempt | undefined>;
  function beginIssueAttempt<Read>(
    id: string,
    at: Date,
    from: readonly GrantState[],
    alongside: (grant: Grant) => Promise<Read>,
  ): Promise<BegunAttempt<Read> | undefined>;
  async function beginIssueAttempt<Read>(
    id: string,
    at: Date,
    from: readonly GrantState[] = ["issuing"],
    alongside?: (grant: Grant) => Promise<Read>,
  ): Promise<BegunAttempt<Read | undefined> | undefined> {
    const { changed, sealed, read } = await sealedChange(
      [id],
      () =>
        many(
          `UPDATE grants SET issue_attempts = issue_attempts + 1, updated_at = $2
           WHERE id = $1 AND state = ANY($3::text[]) RETURNING ${COLUMNS}`,
          [id, at, from],
        ),
      // Nothing is read for a grant in none of `from`.
      alongside && (([grant]) => (grant ? alongside(grant) : Promise.resolve(undefined))),
    );
    const [grant] = changed;
    return grant && { grant, sealed: sealed.has(grant.id), read };
  }

  return {
    ...grantQueries(sql),
    /** Inserts the grant, sealed; in a transaction it goes out with what follows (nothing waits for it). */
    async insert(grant: Grant): Promise<void> {
      await sql.send(
        `INSERT INTO grants (id, request_id, target_id, principal_id, state, duration_seconds, created_at, updated_at,
           issue_attempts, mac)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`,
        [
          grant.id,
          grant.requestId,
          grant.targetId,
          grant.principalId,
          grant.state,
          grant.durationSeconds,
          grant.createdAt,
          grant.issueAttempts,
          grantMac(key, grant),
        ],
      );
    },

    /**
     * Whether the row's MAC matches `grant` as read: false when the holder, target, request, duration,
     * state, deadline or attempt was changed outside Leasehold, or the row was written outside it.
     */
    async isSealed(grant: Grant): Promise<boolean> {
      const [row] = await sql.query<{ mac: string | null }>("SELECT mac FROM grants WHERE id = $1", [
        grant.id,
      ]);
      return row !== undefined && isSealed(key, grant, row.mac);
    },

    findById: (id: string) => one(GRANT_BY_ID.text, [id], GRANT_BY_ID.name),

    /** The grants of `ids` that exist, in no particular order. */
    findByIds: (ids: readonly string[]) =>
      ids.length === 0
        ? Promise.resolve([])
        : many(`SELECT ${COLUMNS} FROM grants WHERE id = ANY($1::uuid[])`, [ids]),

    /** Reads the grant and locks it until the transaction ends. */
    lockById: (id: string) => one(`SELECT ${COLUMNS} FROM grants WHERE id = $1 FOR UPDATE`, [id]),

    findByRequestId: (requestId: string) =>
      one(`SELECT ${COLUMNS} FROM grants WHERE request_id = $1`, [requestId]),

    /**
     * Moves the grant to `to` only if it is in one of `from`, setting `changes` with it. Returns the
     * updated grant and whether its row is sealed (its MAC matched before the move, so it matches the
     * grant returned), or undefined when the grant was in another state (someone else got there
     * first). `guard.issueAttempts` also requires that no later issue attempt has started.
     */
    async transition(
      id: string,
      from: readonly GrantState[],
      to: GrantState,
      at: Date,
      changes: GrantChanges = {},
      guard: { issueAttempts?: number } = {},
    ): Promise<{ grant: Grant; sealed: boolean } | undefined> {
      const params: unknown[] = [id, from, to, at, guard.issueAttempts ?? null];
      const { changed, sealed } = await sealedChange([id], () =>
        many(
          `UPDATE grants SET ${setClause(changes, params)}
           WHERE id = $1 AND state = ANY($2::text[]) AND ($5::integer IS NULL OR issue_attempts = $5)
           RETURNING ${COLUMNS}`,
          params,
        ),
      );
      const [grant] = changed;
      return grant && { grant, sealed: sealed.has(grant.id) };
    },

    /**
     * `transition` for many grants in one statement: moves each grant of `ids` that is in one of
     * `from` (and, with `guard.dueBy`, whose deadline is not later than it: a grant extended since the
     * caller read it stays), and returns those it moved, in no particular order. The rows are locked
     * in id order first, so two batches that share grants wait for each other instead of deadlocking.
     */
    async transitionMany(
      ids: readonly string[],
      from: readonly GrantState[],
      to: GrantState,
      at: Date,
      changes: GrantChanges = {},
      guard: { dueBy?: Date } = {},
    ): Promise<Grant[]> {
      if (ids.length === 0) return [];
      const params: unknown[] = [ids, from, to, at, guard.dueBy ?? null];
      const where = "state = ANY($2::text[]) AND ($5::timestamptz IS NULL OR expires_at <= $5)";
      // lockSealed has locked the rows in id order already.
      const { changed } = await sealedChange(ids, () =>
        many(
          `UPDATE grants SET ${setClause(changes, params)} WHERE id = ANY($1::uuid[]) AND ${where}
           RETURNING ${COLUMNS}`,
          params,
        ),
      );
      return changed;
    },

    /**
     * Counts one more issue attempt on a grant in one of `from` (issuing, or active when an extension
     * issues a new credential), committed before the provider is called, so a retry after a crash
     * knows an earlier attempt may have created a credential. Returns the counted grant and whether
     * its row is sealed (its MAC matched the row as locked, before the count; the count re-seals it,
     * so it then matches the grant returned), or undefined when the grant is in none of `from`.
     * `alongside`: reads of what the counted grant names (its audit trail, its request), sent with the
     * re-seal rather than after its answer; what they read is returned as `read`.
     */
    beginIssueAttempt,

    /**
     * An issuing grant's attempt failed in a way a retry can fix: records why it waits (for the
     * requester to see), and gives the attempt's number back when the attempt provably never reached
     * the backend, so the next attempt reuses it and no deny is written for a session that cannot exist.
     */
    async recordIssueWait(
      id: string,
      attempt: number,
      reason: string,
      at: Date,
      options: { giveBackAttempt: boolean },
    ): Promise<void> {
      await sealedChange([id], () =>
        many(
          `UPDATE grants SET last_error = $3, updated_at = $4,
             issue_attempts = issue_attempts - CASE WHEN $5::boolean THEN 1 ELSE 0 END
           WHERE id = $1 AND state = 'issuing' AND issue_attempts = $2 RETURNING ${COLUMNS}`,
          [id, attempt, reason, at, options.giveBackAttempt],
        ),
      );
    },

    /**
     * Records a provider's non-secret reference mid-issue (a provider checkpoint), so that a retry
     * after a crash can find what the interrupted attempt created.
     */
    async updateReference(id: string, reference: Readonly<Record<string, string>>, at: Date): Promise<void> {
      await sql.query(
        `UPDATE grants SET provider_ref = $2::jsonb, updated_at = $3 WHERE id = $1 AND state IN ('issuing', 'active')`,
        [id, JSON.stringify(reference), at],
      );
    },

    /**
     * Records that the provider's clean-up after the deadline is done. Returns false when it was
     * recorded already: every worker sweeps, so two can release the same grant at once, and only the
     * one whose update changed the row may record it (the row lock orders the two updates).
     */
    async markReleased(id: string, at: Date): Promise<boolean> {
      const rows = await sql.query(
        "UPDATE grants SET released_at = $2, updated_at = $2 WHERE id = $1 AND released_at IS NULL RETURNING id",
        [id, at],
      );
      return rows.length === 1;
    },

    /** `markReleased` for many grants in one statement; a grant released already keeps its time. */
    async markReleasedMany(ids: readonly string[], at: Date): Promise<void> {
      if (ids.length === 0) return;
      await sql.query(
        "UPDATE grants SET released_at = $2, updated_at = $2 WHERE id = ANY($1::uuid[]) AND released_at IS NULL",
        [ids, at],
      );
    },

    /**
     * The read behind a delivery of a grant's credential, in one statement: the grant, whether its row
     * is sealed, and its sealed credential (only while active), all of one version of the row. The row
     * is locked against change until the transaction ends, so a revocation or extension waits for the
     * delivery (or the delivery sees it), and the audit trail records the two in the order they happened.
     */
    async lockForDelivery(id: string): Promise<DeliveryRead | undefined> {
      const [row] = await sql.query<GrantRow & { mac: string | null; credential: Uint8Array | null }>(
        GRANT_FOR_DELIVERY.text,
        [id],
        GRANT_FOR_DELIVERY.name,
      );
      if (!row) return undefined;
      const { mac, credential, ...fields } = row;
      const grant = toGrant(fields);
      return {
        grant,
        sealed: isSealed(key, grant, mac),
        credential: credential ? Buffer.from(credential) : undefined,
      };
    },
  };
}
