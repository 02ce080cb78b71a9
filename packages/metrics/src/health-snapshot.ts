/**
 * What the gauges show, read from the database and the queue store when Prometheus scrapes (not
 * kept up to date on every change, so the hot paths pay nothing). Plain data: the runtime reads it
 * (runtime/src/health-reader.ts), this package only turns it into gauges.
 */
export type HealthSnapshot = {
  readonly grants: readonly { readonly state: string; readonly targetKind: string; readonly count: number }[];
  readonly requests: readonly { readonly state: string; readonly count: number }[];
  /** Grants in `revocation_failed`, by the backend that still honours them (role ARN, target id). */
  readonly revocationDebt: readonly {
    readonly backend: string;
    readonly targetKind: string;
    readonly count: number;
  }[];
  readonly queueDepths: readonly { readonly queue: string; readonly depth: number }[];
  readonly rotations: readonly {
    readonly rotation: string;
    /** Null until the rotation has succeeded once. */
    readonly lastSuccessAgeSeconds: number | null;
    readonly lastRunFailed: boolean;
    /** Null when the schedule gives no next two runs. */
    readonly intervalSeconds: number | null;
  }[];
};

/** How far a sink is behind the trail; the audit sinks' worker reports it (`exportStatus()`). */
export type SinkLag = { readonly sink: string; readonly events: number; readonly seconds: number };

/**
 * Shares one read between the gauges of one scrape (each gauge's collect() asks), and between
 * scrapes closer than `ttlMs`, so a scrape costs one snapshot read however many gauges it feeds.
 */
export function cachedReader<T>(read: () => Promise<T>, ttlMs: number, now: () => number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const at = now();
    if (!last || at - last.at >= ttlMs) {
      const value = read();
      // A failed read is not kept: the next scrape tries again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
      last = { at, value };
    }
    return last.value;
  };
}
