import type { SqlExecutor } from "./database.js";

export type RotationStep = "create" | "set" | "test" | "finish" | "done";

/** One run of a rotation, as stored. The id doubles as Secrets Manager's ClientRequestToken. */
export type RotationRun = {
  readonly id: string;
  readonly rotationId: string;
  readonly triggerKey: string;
  readonly triggeredBy: string;
  readonly state: "running" | "succeeded" | "failed";
  readonly step: RotationStep;
  readonly attempts: number;
  readonly steps: readonly { step: string; outcome: string; at: string }[];
  readonly lastError: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
};

type Row = {
  id: string;
  rotation_id: string;
  trigger_key: string;
  triggered_by: string;
  state: RotationRun["state"];
  step: RotationStep;
  attempts: number;
  steps: RotationRun["steps"];
  last_error: string | null;
  started_at: Date;
  finished_at: Date | null;
};

const COLUMNS =
  "id, rotation_id, trigger_key, triggered_by, state, step, attempts, steps, last_error, started_at, finished_at";

const toRun = (row: Row): RotationRun => ({
  id: row.id,
  rotationId: row.rotation_id,
  triggerKey: row.trigger_key,
  triggeredBy: row.triggered_by,
  state: row.state,
  step: row.step,
  attempts: row.attempts,
  steps: row.steps,
  lastError: row.last_error,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
});

export type RotationRunRepo = ReturnType<typeof rotationRunRepo>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a repository: one query per method over the executor it closes over.
export function rotationRunRepo(sql: SqlExecutor) {
  const one = async (text: string, params: readonly unknown[]) => {
    const [row] = await sql.query<Row>(text, params);
    return row && toRun(row);
  };
  return {
    /** Starts a run for a trigger; returns the existing run when that trigger already started one. */
    async start(run: { id: string; rotationId: string; triggerKey: string; triggeredBy: string; at: Date }) {
      const created = await one(
        `INSERT INTO rotation_runs (id, rotation_id, trigger_key, triggered_by, state, step, started_at)
         VALUES ($1, $2, $3, $4, 'running', 'create', $5)
         ON CONFLICT (rotation_id, trigger_key) DO NOTHING RETURNING ${COLUMNS}`,
        [run.id, run.rotationId, run.triggerKey, run.triggeredBy, run.at],
      );
      return {
        run: created ?? (await this.findByTrigger(run.rotationId, run.triggerKey)),
        created: created !== undefined,
      };
    },

    findByTrigger: (rotationId: string, triggerKey: string) =>
      one(`SELECT ${COLUMNS} FROM rotation_runs WHERE rotation_id = $1 AND trigger_key = $2`, [
        rotationId,
        triggerKey,
      ]),

    findById: (id: string) => one(`SELECT ${COLUMNS} FROM rotation_runs WHERE id = $1`, [id]),

    /** Counts an attempt at a running run; undefined when it is no longer running. */
    beginAttempt: (id: string) =>
      one(
        `UPDATE rotation_runs SET attempts = attempts + 1 WHERE id = $1 AND state = 'running' RETURNING ${COLUMNS}`,
        [id],
      ),

    /** The sealed pending secret of a running run. */
    async pending(id: string): Promise<Buffer | undefined> {
      const [row] = await sql.query<{ pending: Uint8Array | null }>(
        "SELECT pending FROM rotation_runs WHERE id = $1 AND state = 'running'",
        [id],
      );
      return row?.pending ? Buffer.from(row.pending) : undefined;
    },

    async savePending(id: string, sealed: Buffer): Promise<void> {
      await sql.query("UPDATE rotation_runs SET pending = $2 WHERE id = $1 AND state = 'running'", [
        id,
        sealed,
      ]);
    },

    /** Records that a step finished, and which step is next. */
    async completeStep(id: string, step: RotationStep, next: RotationStep, at: Date): Promise<void> {
      await sql.query(
        `UPDATE rotation_runs SET step = $3,
           steps = steps || jsonb_build_array(jsonb_build_object('step', $2::text, 'outcome', 'ok', 'at', $4::text))
         WHERE id = $1 AND state = 'running'`,
        [id, step, next, at.toISOString()],
      );
    },

    /** Ends a run; the pending secret is wiped either way. */
    finish: (id: string, state: "succeeded" | "failed", at: Date, error: string | null) =>
      one(
        `UPDATE rotation_runs SET state = $2, step = CASE WHEN $2 = 'succeeded' THEN 'done' ELSE step END,
           pending = NULL, finished_at = $3, last_error = $4
         WHERE id = $1 AND state = 'running' RETURNING ${COLUMNS}`,
        [id, state, at, error],
      ),

    /** Records a failed attempt (the run stays running and will be retried). */
    async recordError(id: string, error: string): Promise<void> {
      await sql.query("UPDATE rotation_runs SET last_error = $2 WHERE id = $1", [id, error]);
    },

    list: async (rotationId: string, limit: number) =>
      (
        await sql.query<Row>(
          `SELECT ${COLUMNS} FROM rotation_runs WHERE rotation_id = $1 ORDER BY started_at DESC LIMIT $2`,
          [rotationId, limit],
        )
      ).map(toRun),

    /** The rotation's newest run that succeeded, if any. */
    latestSucceeded: (rotationId: string) =>
      one(
        `SELECT ${COLUMNS} FROM rotation_runs WHERE rotation_id = $1 AND state = 'succeeded'
         ORDER BY finished_at DESC LIMIT 1`,
        [rotationId],
      ),

    /** When the rotation's first run started; undefined when it never ran. */
    async firstStartedAt(rotationId: string): Promise<Date | undefined> {
      const [row] = await sql.query<{ first: Date | null }>(
        "SELECT min(started_at) AS first FROM rotation_runs WHERE rotation_id = $1",
        [rotationId],
      );
      return row?.first ? new Date(row.first) : undefined;
    },

    /** Runs still running that started before `before`: their job may be lost. */
    listStalled: async (before: Date, limit: number) =>
      (
        await sql.query<Row>(
          `SELECT ${COLUMNS} FROM rotation_runs WHERE state = 'running' AND started_at <= $1 ORDER BY started_at LIMIT $2`,
          [before, limit],
        )
      ).map(toRun),
  };
}
