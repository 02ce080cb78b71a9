import { describeFailure, type Logger } from "@leasehold/broker";

/** One part of a sweep; a part that fails is logged and does not stop the others. */
export type SweepStep = {
  readonly name: string;
  /**
   * Its own pause between runs, for a step slower than the sweep (the drift scan) or quicker (the
   * check for overdue grants); default the sweep's.
   */
  readonly intervalMs?: number;
  run(signal: AbortSignal): Promise<unknown>;
};

/**
 * Runs the sweep in this process on its own timers: every step at start, then its interval after
 * that step's previous run ended. It is not a Redis job because it is what covers
 * Redis failing: it must keep running while Redis is down and after Redis lost everything. Each step
 * has a timer of its own, so a step waiting on a dead Redis (restoring job schedulers) never delays
 * another step (expiring grants from the database). Every worker process sweeps; that is safe, since
 * each step acts only on rows still in the state it read, and cheap, since the queries are indexed.
 */
export function startSweepLoop(options: { intervalMs: number; steps: readonly SweepStep[]; log: Logger }): {
  close(): Promise<void>;
} {
  const stop = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();

  const runStep = async (step: SweepStep): Promise<void> => {
    try {
      await step.run(stop.signal);
    } catch (error) {
      // As for failed jobs: a description written to be safe, and the original for the operator.
      options.log.warn(
        { step: step.name, error: describeFailure(error), err: error },
        "sweep step failed; the next sweep retries",
      );
    }
  };
  const tick = (step: SweepStep) => {
    if (stop.signal.aborted) return;
    const run = runStep(step).then(() => {
      running.delete(run);
      if (stop.signal.aborted) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        tick(step);
      }, step.intervalMs ?? options.intervalMs);
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
