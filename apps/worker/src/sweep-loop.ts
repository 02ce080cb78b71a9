import { describeFailure, type Logger } from "@leasehold/broker";

/** One part of a sweep; a part that fails is logged and does not stop the others. */
export type SweepStep = { readonly name: string; run(signal: AbortSignal): Promise<unknown> };

/**
 * Runs the sweep in this process on its own timer: at start, then `intervalMs` after each sweep
 * ends. It is not a Redis job because it is what covers Redis failing: it must keep running while
 * Redis is down and after Redis lost everything. Every worker process sweeps; that is safe, since
 * each step acts only on rows still in the state it read, and cheap, since the queries are indexed.
 */
export function startSweepLoop(options: { intervalMs: number; steps: readonly SweepStep[]; log: Logger }): {
  close(): Promise<void>;
} {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const sweep = async () => {
    for (const step of options.steps) {
      if (stop.signal.aborted) return;
      try {
        await step.run(stop.signal);
      } catch (error) {
        // As for failed jobs: a description written to be safe, and the original for the operator.
        options.log.warn(
          { step: step.name, error: describeFailure(error), err: error },
          "sweep step failed; the next sweep retries",
        );
      }
    }
  };
  const tick = () => {
    running = sweep().finally(() => {
      if (!stop.signal.aborted) timer = setTimeout(tick, options.intervalMs);
    });
  };
  tick();

  return {
    async close() {
      stop.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
