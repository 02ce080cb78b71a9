import { createHmac, timingSafeEqual } from "node:crypto";
import type { Grant } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

/**
 * Each grant row carries a MAC, under a key derived from the master key, of the fields that decide who
 * gets what: id, request, target, holder, duration, state, deadline and issue attempt. A database
 * writer without the key can change a row (hand a grant to someone else, move it back to issuing), but
 * not write a MAC that matches, so the worker does not issue it and its credentials are not delivered.
 * Leasehold re-seals a row it changes only if the row was sealed before: its own write never vouches
 * for a change made outside it. A row's earlier, authentic state (MAC and all) can still be put back;
 * the audit trail is what tells those apart (grant-provenance.ts in the broker).
 */

/** The sealed fields, as the MAC sees them. */
export type SealedFields = Pick<
  Grant,
  | "id"
  | "requestId"
  | "targetId"
  | "principalId"
  | "durationSeconds"
  | "state"
  | "expiresAt"
  | "issueAttempts"
>;

export function grantMac(key: Buffer, grant: SealedFields): string {
  const fields = [
    grant.id,
    grant.requestId,
    grant.targetId,
    grant.principalId,
    grant.durationSeconds,
    grant.state,
    grant.expiresAt?.toISOString() ?? null,
    grant.issueAttempts,
  ];
  return createHmac("sha256", key).update(JSON.stringify(fields)).digest("hex");
}

/** Whether `mac` is the MAC of these fields: false for a missing one (a row not written by Leasehold). */
export function isSealed(key: Buffer, grant: SealedFields, mac: string | null): boolean {
  if (mac === null) return false;
  const expected = Buffer.from(grantMac(key, grant), "utf8");
  const actual = Buffer.from(mac, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

type SealedRow = {
  id: string;
  request_id: string | null;
  target_id: string;
  principal_id: string;
  duration_seconds: number;
  state: Grant["state"];
  expires_at: Date | null;
  issue_attempts: number;
  mac: string | null;
};

/**
 * Locks the rows of `ids` (in id order, as every batch does, so batches never deadlock) and returns
 * the ids of those sealed now. Call it in the transaction that changes sealed fields, before the change.
 */
export async function lockSealed(
  sql: SqlExecutor,
  key: Buffer,
  ids: readonly string[],
): Promise<Set<string>> {
  const rows = await sql.query<SealedRow>(
    `SELECT id, request_id, target_id, principal_id, duration_seconds, state, expires_at, issue_attempts, mac
     FROM grants WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const sealed = rows.filter((row) =>
    isSealed(
      key,
      {
        id: row.id,
        requestId: row.request_id,
        targetId: row.target_id,
        principalId: row.principal_id,
        durationSeconds: row.duration_seconds,
        state: row.state,
        expiresAt: row.expires_at,
        issueAttempts: row.issue_attempts,
      },
      row.mac,
    ),
  );
  return new Set(sealed.map((row) => row.id));
}

/** Seals the changed grants whose rows were sealed before the change (`lockSealed`); leaves the rest. */
export async function reseal(
  sql: SqlExecutor,
  key: Buffer,
  changed: readonly Grant[],
  sealedBefore: ReadonlySet<string>,
): Promise<void> {
  const toSeal = changed.filter((grant) => sealedBefore.has(grant.id));
  if (toSeal.length === 0) return;
  await sql.query(
    `UPDATE grants SET mac = m.mac FROM unnest($1::uuid[], $2::text[]) AS m(id, mac) WHERE grants.id = m.id`,
    [toSeal.map((g) => g.id), toSeal.map((g) => grantMac(key, g))],
  );
}
