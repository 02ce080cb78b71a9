/** One figure of a benchmark: what was measured, its value and unit. */
export type Figure = { readonly name: string; readonly value: number; readonly unit: string };

/** What one benchmark (P1…P5) reports: its figures, the baselines run beside them, and its target. */
export type BenchResult = {
  readonly id: string;
  readonly title: string;
  /** The measurement of Leasehold. */
  readonly figures: readonly Figure[];
  /** Measured in the same run, on the same machine, to give the figures meaning. */
  readonly baselines: readonly Figure[];
  /** The target in words, and whether this run met it. */
  readonly target: { readonly description: string; readonly met: boolean };
  /** Anything a reader needs to interpret the figures (sizes, concurrency, causes of a miss). */
  readonly notes?: readonly string[];
};

/** A benchmark: runs once and reports. `log` prints progress to stderr. */
export type Bench = {
  readonly id: string;
  readonly title: string;
  run(log: (line: string) => void): Promise<BenchResult>;
};
