import { type Summary, summarize } from "./stats.js";

/** One grant of an expiry run, as the database holds it afterwards (epoch milliseconds). */
export type ExpiryRow = { readonly expiresAtMs: number; readonly endedAtMs: number | null };

export type ExpiryOutcome = {
  readonly grants: number;
  /** Grants that were still active `boundMs` after their deadline (ended later, or not ended when observed). */
  readonly missed: number;
  /** Grants not ended when observed. */
  readonly unended: number;
  /** ended_at − expires_at over the ended grants, in ms; undefined when none ended. */
  readonly latenessMs: Summary | undefined;
};

/**
 * Judges an expiry run. A grant is missed when it stayed active longer than `boundMs` past its
 * deadline: it ended too late, or it had not ended by `observedAtMs` although its bound had passed.
 * A grant not yet ended whose bound lies after `observedAtMs` is not (yet) missed.
 */
export function judgeExpiries(
  rows: readonly ExpiryRow[],
  boundMs: number,
  observedAtMs: number,
): ExpiryOutcome {
  let missed = 0;
  let unended = 0;
  const lateness: number[] = [];
  for (const row of rows) {
    if (row.endedAtMs === null) {
      unended += 1;
      if (observedAtMs > row.expiresAtMs + boundMs) missed += 1;
      continue;
    }
    const late = row.endedAtMs - row.expiresAtMs;
    lateness.push(late);
    if (late > boundMs) missed += 1;
  }
  return {
    grants: rows.length,
    missed,
    unended,
    latenessMs: lateness.length > 0 ? summarize(lateness) : undefined,
  };
}
