import {
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
  type JsonValue,
  SYSTEM_ACTOR,
} from "@leasehold/domain";
import {
  chainHash,
  headLinkKey,
  headStateOf,
  keyChangeAgreement,
  keyWalk,
  linkingKey,
  type StoredEvent,
} from "./audit-chain.js";
import { GENESIS, headKey, headMac, sameHash } from "./audit-head.js";
import type { SqlExecutor } from "./database.js";
import type { KeyEntry, Keyring } from "./keyring.js";

/**
 * The audit trail: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and chained: each
 * event's hash is HMAC-SHA256, under a key derived from the master key, of its own fields and the
 * previous event's hash. Someone who can write to the database but does not hold the master key can
 * neither edit an event nor forge a replacement chain without `verify` noticing. The head carries a
 * MAC too (audit-head.ts).
 *
 * Each event records the id of the master key whose chain key links it (`key_id`; NULL before keys had
 * ids). When the master key is rotated, the first writer under the new key appends one
 * `audit.key_changed` event, linked under the old key and carrying an agreement made with the new
 * one; every event after it is linked under the new key. `verify` walks across such changes with the
 * keyring, so a retired key that leaks cannot write events after the change.
 */

type EventRow = {
  seq: string | number;
  at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  data: Record<string, JsonValue>;
  prev_hash: string;
  hash: string;
  key_id: string | null;
};

const toEvent = (row: EventRow): StoredEvent => ({
  seq: Number(row.seq),
  at: row.at,
  actor: row.actor,
  action: row.action as AuditAction,
  subjectType: row.subject_type as AuditEvent["subjectType"],
  subjectId: row.subject_id,
  data: row.data,
  prevHash: row.prev_hash,
  hash: row.hash,
  keyId: row.key_id,
});

/** The event as the trail's readers see it (the key id is the chain's business). */
const published = ({ keyId: _keyId, ...event }: StoredEvent): AuditEvent => event;

export type AuditProblem = { readonly seq: number; readonly problem: string };

export type AuditVerification = {
  readonly ok: boolean;
  /** Events checked. */
  readonly events: number;
  /** The newest event's sequence number and hash, for anchoring outside the database. */
  readonly head: { readonly seq: number; readonly hash: string };
  readonly problems: readonly AuditProblem[];
};

const VERIFY_BATCH = 1000;
const MAX_PROBLEMS = 100;

export type AuditLog = ReturnType<typeof auditLog>;

/** Audit operations on an executor; `append` must run inside the transaction of the change it records. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a repository: one query per method over the executor it closes over.
export function auditLog(sql: SqlExecutor, ring: Keyring) {
  const current = ring.current;

  /**
   * Reserves `count` sequence numbers and locks the head; RETURNING gives the last reserved number and
   * the head before (those columns are not changed yet), with the key that links it.
   */
  async function reserve(count: number): Promise<{ seq: number; hash: string; key: KeyEntry }> {
    const [head] = await sql.query<{
      seq: string | number;
      hash: string;
      mac: string | null;
      key_id: string | null;
    }>("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash, mac, key_id", [count]);
    if (!head) throw new Error("audit_head is missing: the database was not migrated");
    const row = { seq: Number(head.seq) - count, hash: head.hash, mac: head.mac };
    return { seq: row.seq, hash: row.hash, key: headLinkKey(ring, row, head.key_id) };
  }

  /**
   * Appends `inputs` under the current key, after one `audit.key_changed` event when the head is under
   * another key. The head's lock makes that event come once, however many writers race to it.
   */
  async function appendEvents(inputs: readonly AuditEventInput[], at: Date): Promise<StoredEvent[]> {
    const head = await reserve(inputs.length);
    const changing = head.key.id !== current.id;
    if (!changing && inputs.length === 0) return [];
    let last = { seq: head.seq, hash: head.hash };
    const link = (input: AuditEventInput, key: KeyEntry): StoredEvent => {
      const unsealed = { ...input, seq: last.seq + 1, at, prevHash: last.hash, keyId: key.id };
      last = { seq: unsealed.seq, hash: chainHash(key.key, unsealed) };
      return { ...unsealed, hash: last.hash };
    };
    const events: StoredEvent[] = [];
    if (changing) {
      await sql.send("UPDATE audit_head SET seq = seq + 1 WHERE id = 1");
      events.push(link(keyChangeInput(head.key.id, head.hash), head.key));
    }
    events.push(...inputs.map((input) => link(input, current)));
    // One statement inserts the events and moves the head's hash to the newest. Its answer is not
    // needed (the hashes are computed here), so in a transaction it goes out with the COMMIT.
    await sql.send(
      `WITH appended AS (
         INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash, key_id)
         SELECT e.seq, $1, e.actor, e.action, e.subject_type, e.subject_id, e.data::jsonb, e.prev_hash, e.hash, e.key_id
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[]) AS e(seq, actor, action, subject_type, subject_id, data, prev_hash, hash, key_id)
       )
       UPDATE audit_head SET hash = $11, mac = $12, key_id = $13 WHERE id = 1`,
      [
        at,
        events.map((e) => e.seq),
        events.map((e) => e.actor),
        events.map((e) => e.action),
        events.map((e) => e.subjectType),
        events.map((e) => e.subjectId),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => e.prevHash),
        events.map((e) => e.hash),
        events.map((e) => e.keyId),
        last.hash,
        headMac(headKey(current.key), last.seq, last.hash),
        current.id,
      ],
    );
    return changing ? events.slice(1) : events;
  }

  const keyChangeInput = (fromKeyId: string, prevHash: string): AuditEventInput => ({
    actor: SYSTEM_ACTOR.keyring,
    action: "audit.key_changed",
    subjectType: "audit",
    subjectId: current.id,
    data: { fromKeyId, toKeyId: current.id, agreement: keyChangeAgreement(current, fromKeyId, prevHash) },
  });

  async function appendMany(inputs: readonly AuditEventInput[], at: Date): Promise<AuditEvent[]> {
    if (inputs.length === 0) return [];
    return (await appendEvents(inputs, at)).map(published);
  }

  return {
    /** Appends one event, chained to the newest. Locks the chain head until the transaction ends. */
    async append(input: AuditEventInput, at: Date): Promise<AuditEvent> {
      const [event] = await appendMany([input], at);
      if (!event) throw new Error("no audit event was appended");
      return event;
    },

    /**
     * Appends events in the order given, each chained to the one before, with one lock of the chain
     * head for all of them: a transaction that changes many rows (expiring a batch of grants) writes
     * one event per change without taking the head once per event.
     */
    appendMany,

    /**
     * The events about `subjectId` whose own HMAC checks out under their key: events a database writer
     * without the master key cannot have written. (The chain around them is `verify`'s to check; an
     * authentic event cannot be moved to another subject, whose id it hashes.)
     */
    async authenticFor(subjectId: string): Promise<AuditEvent[]> {
      const rows = await sql.query<EventRow>(
        "SELECT * FROM audit_events WHERE subject_id = $1 ORDER BY seq",
        [subjectId],
      );
      return rows
        .map(toEvent)
        .filter((event) => linkingKey(ring, event) !== undefined)
        .map(published);
    },

    /**
     * Appends the one event `build` makes from the chain head as it stands (the newest event's seq and
     * hash), with the head locked from the read to the append: nothing can come between (a key change
     * the head is due is appended first), so a checkpoint signed in `build` covers exactly the event
     * before it. Inside a transaction only.
     */
    async appendOverHead(
      build: (head: { readonly seq: number; readonly hash: string }) => AuditEventInput,
      at: Date,
    ): Promise<AuditEvent> {
      await appendEvents([], at);
      const [head] = await sql.query<{ seq: string | number; hash: string }>(
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
      );
      if (!head) throw new Error("audit_head is missing: the database was not migrated");
      const [event] = await appendMany([build({ seq: Number(head.seq), hash: head.hash })], at);
      if (!event) throw new Error("no audit event was appended");
      return event;
    },
    /** The newest event of `action` (its seq and time), if any: how long since the last checkpoint. */
    async latestOf(action: AuditAction): Promise<{ seq: number; at: Date } | undefined> {
      // Walks the primary key backwards and stops at the first match: checkpoints are frequent, so
      // only the events since the last one are read.
      const [row] = await sql.query<{ seq: string | number; at: Date }>(
        "SELECT seq, at FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1",
        [action],
      );
      return row ? { seq: Number(row.seq), at: row.at } : undefined;
    },

    /**
     * Whether an event of `action` came after event `afterSeq`: reads only the events since then (a
     * checkpoint's worth), never the whole trail.
     */
    async hasSince(action: AuditAction, afterSeq: number): Promise<boolean> {
      const rows = await sql.query("SELECT 1 FROM audit_events WHERE seq > $1 AND action = $2 LIMIT 1", [
        afterSeq,
        action,
      ]);
      return rows.length > 0;
    },

    /** The newest event's sequence number (0 for an empty trail): where a later `list` can start. */
    async latestSeq(): Promise<number> {
      const [row] = await sql.query<{ seq: string }>(
        "SELECT coalesce(max(seq), 0)::text AS seq FROM audit_events",
      );
      return Number(row?.seq ?? 0);
    },

    /** Events after `afterSeq`, oldest first; optionally only those about one subject. */
    async list(options: {
      afterSeq: number;
      limit: number;
      subjectId?: string | undefined;
    }): Promise<AuditEvent[]> {
      const rows = await sql.query<EventRow>(
        `SELECT * FROM audit_events
         WHERE seq > $1 AND ($2::text IS NULL OR subject_id = $2)
         ORDER BY seq LIMIT $3`,
        [options.afterSeq, options.subjectId ?? null, options.limit],
      );
      return rows.map(toEvent).map(published);
    },

    /**
     * Recomputes the whole chain. Finds an edited event (hash), a deleted or reordered one (sequence
     * gap, or a link to the wrong predecessor), and deleted newest events (the head disagrees). Given
     * a head recorded outside the database earlier (`expected`), also finds a trail cut back, head
     * and all, to before it (shorter than it), or rewritten since (another hash at its sequence).
     */
    async verify(expected?: { readonly seq: number; readonly hash: string }): Promise<AuditVerification> {
      // Read the head first and check the chain up to it: events appended while this runs are
      // outside the range, so a busy system verifies without a snapshot transaction.
      // The newest event is read in the same statement, so in the same snapshot as the head: the two
      // move together in every append, and an event past the head means the head was set back.
      const [head] = await sql.query<{
        seq: string | number;
        hash: string;
        mac: string | null;
        key_id: string | null;
        newest: string | number | null;
      }>(
        "SELECT seq, hash, mac, key_id, (SELECT max(seq) FROM audit_events) AS newest FROM audit_head WHERE id = 1",
      );
      const headSeq = Number(head?.seq ?? 0);
      const problems: AuditProblem[] = [];
      const report = (seq: number, problem: string) => {
        if (problems.length < MAX_PROBLEMS) problems.push({ seq, problem });
      };
      const keys = keyWalk(ring, report);
      let expectedSeq = 1;
      let prevHash = GENESIS;
      let count = 0;
      for (;;) {
        const batch = await sql.query<EventRow>(
          "SELECT * FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3",
          [expectedSeq, headSeq, VERIFY_BATCH],
        );
        for (const event of batch.map(toEvent)) {
          count += 1;
          if (event.seq !== expectedSeq) {
            report(event.seq, `events ${expectedSeq}–${event.seq - 1} are missing`);
          }
          if (!sameHash(event.prevHash, prevHash)) {
            report(
              event.seq,
              "does not follow the event before it (an event was removed, inserted or reordered)",
            );
          }
          keys.check(event);
          if (expected && event.seq === expected.seq && !sameHash(event.hash, expected.hash)) {
            report(
              event.seq,
              "differs from the head recorded outside the database (the trail was rewritten)",
            );
          }
          expectedSeq = event.seq + 1;
          prevHash = event.hash;
        }
        if (batch.length < VERIFY_BATCH) break;
      }
      if (expected && expected.seq > headSeq) {
        report(
          headSeq,
          `the trail ends at event ${headSeq}, before the head recorded outside the database (event ${expected.seq}): newer events were removed`,
        );
      }
      if (expectedSeq - 1 !== headSeq || !sameHash(head?.hash ?? "", prevHash)) {
        report(
          headSeq,
          `the chain head names event ${headSeq} as the newest, but the trail ends at ${expectedSeq - 1}`,
        );
      }
      const newest = Number(head?.newest ?? 0);
      if (newest > headSeq) {
        report(
          headSeq,
          `events up to ${newest} follow the chain head (event ${headSeq}): the head was set back`,
        );
      }
      const headRow = { seq: headSeq, hash: head?.hash ?? GENESIS, mac: head?.mac ?? null };
      const headState = headStateOf(ring, headRow, head?.key_id ?? null);
      if (headState) report(headSeq, headState);
      return {
        ok: problems.length === 0,
        events: count,
        head: { seq: headSeq, hash: head?.hash ?? GENESIS },
        problems,
      };
    },
  };
}
