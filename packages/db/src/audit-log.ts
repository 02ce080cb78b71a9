import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuditAction, AuditEvent, AuditEventInput, JsonValue } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

/**
 * The audit trail: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and chained: each
 * event's hash is HMAC-SHA256, under a key derived from the master key, of its own fields and the
 * previous event's hash. Someone who can write to the database but does not hold the master key can
 * neither edit an event nor forge a replacement chain without `verify` noticing.
 */

const GENESIS = "0".repeat(64);

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
export function auditLog(sql: SqlExecutor, key: Buffer) {
  return {
    /** Appends one event, chained to the newest. Locks the chain head until the transaction ends. */
    async append(input: AuditEventInput, at: Date): Promise<AuditEvent> {
      const [head] = await sql.query<{ seq: string | number; hash: string }>(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
      );
      if (!head) throw new Error("audit_head is missing: the database was not migrated");
      const unsealed = { ...input, seq: Number(head.seq), at, prevHash: head.hash };
      const event: AuditEvent = { ...unsealed, hash: chainHash(key, unsealed) };
      await sql.query(
        `INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)`,
        [
          event.seq,
          event.at,
          event.actor,
          event.action,
          event.subjectType,
          event.subjectId,
          JSON.stringify(event.data),
          event.prevHash,
          event.hash,
        ],
      );
      await sql.query("UPDATE audit_head SET hash = $1 WHERE id = 1", [event.hash]);
      return event;
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
     * gap, or a link to the wrong predecessor), and deleted newest events (the head disagrees).
     */
    async verify(): Promise<AuditVerification> {
      // Read the head first and check the chain up to it: events appended while this runs are
      // outside the range, so a busy system verifies without a snapshot transaction.
      const [head] = await sql.query<{ seq: string | number; hash: string }>(
        "SELECT seq, hash FROM audit_head WHERE id = 1",
      );
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
          expectedSeq = event.seq + 1;
          prevHash = event.hash;
        }
        if (batch.length < VERIFY_BATCH) break;
      }
      if (expectedSeq - 1 !== headSeq || !sameHash(head?.hash ?? "", prevHash)) {
        report(
          headSeq,
          `the chain head names event ${headSeq} as the newest, but the trail ends at ${expectedSeq - 1}`,
        );
      }
      return {
        ok: problems.length === 0,
        events: count,
        head: { seq: headSeq, hash: head?.hash ?? GENESIS },
        problems,
      };
    },
  };
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
