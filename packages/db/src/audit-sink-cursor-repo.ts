import type { SqlExecutor } from "./database.js";

/** Where one audit sink stands: the newest event it durably holds, and its current outage if any. */
export type AuditSinkCursor = {
  readonly sink: string;
  /** The newest `seq` delivered (0: none yet). */
  readonly seq: number;
  readonly updatedAt: Date;
  /** Why the last delivery failed; null once one succeeds. */
  readonly lastError: string | null;
  /** When the current run of failures began; null while the sink delivers. */
  readonly failingSince: Date | null;
  /** When this outage's alert was raised; null until then, and again after the sink recovers. */
  readonly alertedAt: Date | null;
};

type Row = {
  sink: string;
  seq: string | number;
  updated_at: Date;
  last_error: string | null;
  failing_since: Date | null;
  alerted_at: Date | null;
};

const toCursor = (row: Row): AuditSinkCursor => ({
  sink: row.sink,
  seq: Number(row.seq),
  updatedAt: row.updated_at,
  lastError: row.last_error,
  failingSince: row.failing_since,
  alertedAt: row.alerted_at,
});

/** Errors are kept short: a sink's error says what failed, never a payload. */
const MAX_ERROR = 1000;

export type AuditSinkCursorRepo = ReturnType<typeof auditSinkCursorRepo>;

/** The audit sinks' durable cursors (table audit_sink_cursors). */
export function auditSinkCursorRepo(sql: SqlExecutor) {
  return {
    async find(sink: string): Promise<AuditSinkCursor | undefined> {
      const [row] = await sql.query<Row>("SELECT * FROM audit_sink_cursors WHERE sink = $1", [sink]);
      return row && toCursor(row);
    },

    async list(): Promise<AuditSinkCursor[]> {
      const rows = await sql.query<Row>("SELECT * FROM audit_sink_cursors ORDER BY sink");
      return rows.map(toCursor);
    },

    /** Moves the cursor forward only, and ends the sink's outage (if any). */
    async advance(sink: string, seq: number, at: Date): Promise<void> {
      await sql.query(
        `INSERT INTO audit_sink_cursors (sink, seq, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (sink) DO UPDATE SET seq = GREATEST(audit_sink_cursors.seq, EXCLUDED.seq),
           updated_at = EXCLUDED.updated_at, last_error = NULL, failing_since = NULL, alerted_at = NULL`,
        [sink, seq, at],
      );
    },

    /** Records a failed delivery; the outage's start is kept from its first failure. */
    async recordFailure(sink: string, error: string, at: Date): Promise<void> {
      await sql.query(
        `INSERT INTO audit_sink_cursors (sink, seq, updated_at, last_error, failing_since)
         VALUES ($1, 0, $2, $3, $2)
         ON CONFLICT (sink) DO UPDATE SET updated_at = EXCLUDED.updated_at, last_error = EXCLUDED.last_error,
           failing_since = COALESCE(audit_sink_cursors.failing_since, EXCLUDED.failing_since)`,
        [sink, at, error.slice(0, MAX_ERROR)],
      );
    },

    /** Marks the outage's alert as raised; false when it already was (or the sink is not failing). */
    async markAlerted(sink: string, at: Date): Promise<boolean> {
      const rows = await sql.query(
        `UPDATE audit_sink_cursors SET alerted_at = $2
         WHERE sink = $1 AND failing_since IS NOT NULL AND alerted_at IS NULL RETURNING sink`,
        [sink, at],
      );
      return rows.length === 1;
    },
  };
}
