import { createHmac } from "node:crypto";
import type { AuditAction, AuditEvent, AuditEventInput, JsonValue } from "@leasehold/domain";
import { GENESIS, headKey, headMac, headProblem, sameHash } from "./audit-head.js";
import type { SqlExecutor } from "./database.js";

/**
 * The audit trail: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and chained: each
 * event's hash is HMAC-SHA256, under a key derived from the master key, of its own fields and the
 * previous event's hash. Someone who can write to the database but does not hold the master key can
 * neither edit an event nor forge a replacement chain without `verify` noticing. The head carries a
 * MAC too (audit-head.ts).
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
};

/** JSON with object keys sorted at every depth, so that jsonb's own key order does not matter. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function chainHash(key: Buffer, event: Omit<AuditEvent, "hash">): string {
  const content = canonicalJson([
    event.seq,
    event.at.toISOString(),
    event.actor,
    event.action,
    event.subjectType,
    event.subjectId,
    event.data as JsonValue,
    event.prevHash,
  ]);
  return createHmac("sha256", key).update(content).digest("hex");
}

const toEvent = (row: EventRow): AuditEvent => ({
  seq: Number(row.seq),
  at: row.at,
  actor: row.actor,
  action: row.action as AuditAction,
  subjectType: row.subject_type as AuditEvent["subjectType"],
  subjectId: row.subject_id,
  data: row.data,
  prevHash: row.prev_hash,
  hash: row.hash,
});

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
export function auditLog(sql: SqlExecutor, key: Buffer) {
  const macKey = headKey(key);

  async function appendMany(inputs: readonly AuditEventInput[], at: Date): Promise<AuditEvent[]> {
    if (inputs.length === 0) return [];
    // Reserves the sequence numbers and locks the head; RETURNING gives the last reserved number and
    // the hash and MAC of the head before (those columns are not changed yet).
    const [head] = await sql.query<{ seq: string | number; hash: string; mac: string | null }>(
      "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash, mac",
      [inputs.length],
    );
    if (!head) throw new Error("audit_head is missing: the database was not migrated");
    let seq = Number(head.seq) - inputs.length;
    // Extending a forged head would give it a valid MAC. One without a MAC is from before heads had
    // them, and is sealed now (the upgrade path; `verify` reports it until then).
    if (headProblem(macKey, { seq, hash: head.hash, mac: head.mac }) === "forged") {
      throw new Error(
        "the audit trail's head was changed outside Leasehold (its MAC does not match), so nothing more is recorded: run leasehold audit verify",
      );
    }
    let prevHash = head.hash;
    const events = inputs.map((input): AuditEvent => {
      seq += 1;
      const unsealed = { ...input, seq, at, prevHash };
      const event = { ...unsealed, hash: chainHash(key, unsealed) };
      prevHash = event.hash;
      return event;
    });
    // One statement inserts the events and moves the head's hash to the newest.
    await sql.query(
      `WITH appended AS (
         INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash)
         SELECT e.seq, $1, e.actor, e.action, e.subject_type, e.subject_id, e.data::jsonb, e.prev_hash, e.hash
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[]) AS e(seq, actor, action, subject_type, subject_id, data, prev_hash, hash)
       )
       UPDATE audit_head SET hash = $10, mac = $11 WHERE id = 1`,
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
        prevHash,
        headMac(macKey, seq, prevHash),
      ],
    );
    return events;
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
     * The events about `subjectId` whose own HMAC checks out under the key, oldest first: events a
     * database writer without the master key cannot have written. (The chain around them is
     * `verify`'s to check; an authentic event cannot be moved to another subject, whose id it hashes.)
     */
    async authenticFor(subjectId: string): Promise<AuditEvent[]> {
      const rows = await sql.query<EventRow>(
        "SELECT * FROM audit_events WHERE subject_id = $1 ORDER BY seq",
        [subjectId],
      );
      return rows.map(toEvent).filter((event) => sameHash(event.hash, chainHash(key, event)));
    },

    /**
     * Appends the one event `build` makes from the chain head as it stands (the newest event's seq and
     * hash), with the head locked from the read to the append: nothing can come between, so a
     * checkpoint signed in `build` covers exactly the event before it. Inside a transaction only.
     */
    async appendOverHead(
      build: (head: { readonly seq: number; readonly hash: string }) => AuditEventInput,
      at: Date,
    ): Promise<AuditEvent> {
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
      return rows.map(toEvent);
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
        newest: string | number | null;
      }>("SELECT seq, hash, mac, (SELECT max(seq) FROM audit_events) AS newest FROM audit_head WHERE id = 1");
      const headSeq = Number(head?.seq ?? 0);
      const problems: AuditProblem[] = [];
      const report = (seq: number, problem: string) => {
        if (problems.length < MAX_PROBLEMS) problems.push({ seq, problem });
      };
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
          if (!sameHash(event.hash, chainHash(key, event))) {
            report(event.seq, "its contents do not match its hash (the event was edited)");
          }
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
      const headState = headProblem(macKey, {
        seq: headSeq,
        hash: head?.hash ?? GENESIS,
        mac: head?.mac ?? null,
      });
      if (headState) report(headSeq, HEAD_PROBLEMS[headState]);
      return {
        ok: problems.length === 0,
        events: count,
        head: { seq: headSeq, hash: head?.hash ?? GENESIS },
        problems,
      };
    },
  };
}

const HEAD_PROBLEMS = {
  forged: "the chain head's MAC does not match: the head was changed outside Leasehold",
  unsealed:
    "the chain head has no MAC: it was written before heads had one (the next audited action adds it), or its MAC was removed outside Leasehold",
} as const;
