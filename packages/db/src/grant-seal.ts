import { createHmac, timingSafeEqual } from "node:crypto";
import type { Grant } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";
import { type Keyring, keyById, ringKeys } from "./keyring.js";

/**
 * Each grant row carries a MAC, under a key derived from the master key, of the fields that decide who
 * gets what: id, request, target, holder, duration, state, deadline and issue attempt. A database
 * writer without the key can change a row (hand a grant to someone else, move it back to issuing), but
 * not write a MAC that matches, so the worker does not issue it and its credentials are not delivered.
 * Leasehold re-seals a row it changes only if the row was sealed before: its own write never vouches
 * for a change made outside it. A row's earlier, authentic state (MAC and all) can still be put back;
 * the audit trail is what tells those apart (grant-provenance.ts in the broker).
 *
 * A MAC is stored as `<key id>:<hex>`, the id naming the master key it was made under, so that it is
 * checked under that key while the master key is rotated; one without an id was made before keys had
 * ids, and is checked under each key of the ring.
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

function macHex(key: Buffer, grant: SealedFields): string {
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

/** The MAC of these fields under the ring's current key, with its id. */
export function grantMac(ring: Keyring, grant: SealedFields): string {
  return `${ring.current.id}:${macHex(ring.current.key, grant)}`;
}

/** The stored MAC's key id (undefined: made before keys had ids) and digest. */
const splitMac = (mac: string): { id: string | undefined; hex: string } => {
  const colon = mac.lastIndexOf(":");
  return colon === -1 ? { id: undefined, hex: mac } : { id: mac.slice(0, colon), hex: mac.slice(colon + 1) };
};

const sameDigest = (expected: string, actual: string) => {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(actual, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Whether `mac` is the MAC of these fields under a key of the ring: false for a missing one (a row not
 * written by Leasehold) and for one under a key the ring does not hold.
 */
export function isSealed(ring: Keyring, grant: SealedFields, mac: string | null): boolean {
  if (mac === null) return false;
  const { id, hex } = splitMac(mac);
  const candidates = id === undefined ? ringKeys(ring) : [keyById(ring, id)];
  return candidates.some((entry) => entry !== undefined && sameDigest(macHex(entry.key, grant), hex));
}

/** Whether the stored MAC was made under the ring's current key (the re-seal moves the others). */
export const macIsCurrent = (ring: Keyring, mac: string): boolean => splitMac(mac).id === ring.current.id;

export type SealedRow = {
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
  ring: Keyring,
  ids: readonly string[],
): Promise<Set<string>> {
  const rows = await sql.query<SealedRow>(
    `SELECT id, request_id, target_id, principal_id, duration_seconds, state, expires_at, issue_attempts, mac
     FROM grants WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const sealed = rows.filter((row) => isSealed(ring, sealedFieldsOf(row), row.mac));
  return new Set(sealed.map((row) => row.id));
}

export const sealedFieldsOf = (row: SealedRow): SealedFields => ({
  id: row.id,
  requestId: row.request_id,
  targetId: row.target_id,
  principalId: row.principal_id,
  durationSeconds: row.duration_seconds,
  state: row.state,
  expiresAt: row.expires_at,
  issueAttempts: row.issue_attempts,
});

/** Seals the changed grants whose rows were sealed before the change (`lockSealed`); leaves the rest. */
export async function reseal(
  sql: SqlExecutor,
  ring: Keyring,
  changed: readonly Grant[],
  sealedBefore: ReadonlySet<string>,
): Promise<void> {
  const toSeal = changed.filter((grant) => sealedBefore.has(grant.id));
  if (toSeal.length === 0) return;
  // Nothing waits for its answer: in a transaction it goes out with what follows.
  await sql.send(
    `UPDATE grants SET mac = m.mac FROM unnest($1::uuid[], $2::text[]) AS m(id, mac) WHERE grants.id = m.id`,
    [toSeal.map((g) => g.id), toSeal.map((g) => grantMac(ring, g))],
  );
}
