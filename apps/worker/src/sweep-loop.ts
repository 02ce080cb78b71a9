import { describeFailure, type Logger } from "@leasehold/broker";

/**
 * One part of a sweep; a part that fails is logged and does not stop the others. A step that
 * resolves with `{ behind: true }` found work that should already have been done (grants past their
 * deadline whose expiry jobs Redis lost): it runs again after `catchUpMs` instead of a whole
 * interval, until a run finds it is no longer behind.
 */
export type SweepStep = {
  readonly name: string;
  /** Its own pause between runs, for a step slower than the sweep (the drift scan); default the sweep's. */
  readonly intervalMs?: number;
  run(signal: AbortSignal): Promise<unknown>;
};

const isBehind = (result: unknown): boolean =>
  typeof result === "object" && result !== null && "behind" in result && result.behind === true;

/**
 * Runs the sweep in this process on its own timers: every step at start, then `intervalMs` after
 * that step's previous run ended (`catchUpMs` while the step reports itself behind: otherwise, after
 * Redis lost its jobs, a grant could wait a whole interval plus the previous sweep before it ends,
 * longer than the interval invariant 5 promises). It is not a Redis job because it is what covers
 * Redis failing: it must keep running while Redis is down and after Redis lost everything. Each step
 * has a timer of its own, so a step waiting on a dead Redis (restoring job schedulers) never delays
 * another step (expiring grants from the database). Every worker process sweeps; that is safe, since
 * each step acts only on rows still in the state it read, and cheap, since the queries are indexed.
 */
export function startSweepLoop(options: {
  intervalMs: number;
  /** The pause after a run that reported itself behind; at most `intervalMs`. */
  catchUpMs?: number;
  steps: readonly SweepStep[];
  log: Logger;
}): {
  close(): Promise<void>;
} {
  const catchUpMs = Math.min(options.catchUpMs ?? options.intervalMs, options.intervalMs);
  const stop = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();

  /** Runs one step; resolves with whether it is behind (a failed run is not: it waits the interval). */
  const runStep = async (step: SweepStep): Promise<boolean> => {
    try {
      return isBehind(await step.run(stop.signal));
    } catch (error) {
      // As for failed jobs: a description written to be safe, and the original for the operator.
      options.log.warn(
        { step: step.name, error: describeFailure(error), err: error },
        "sweep step failed; the next sweep retries",
      );
      return false;
    }
  };
  const tick = (step: SweepStep) => {
    if (stop.signal.aborted) return;
    const run = runStep(step).then((behind) => {
      running.delete(run);
      if (stop.signal.aborted) return;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          tick(step);
        },
        behind ? catchUpMs : (step.intervalMs ?? options.intervalMs),
      );
      timers.add(timer);
    });
    running.add(run);
  };
  for (const step of options.steps) tick(step);

  return {
    async close() {
      stop.abort();
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(running);
    },
  };
}
