import { runConcurrently } from "./stats.js";

/** One timed phase of a closed loop: how many calls succeeded and failed, in what wall time. */
export type LoopResult = {
  readonly succeeded: number;
  readonly failed: number;
  /** The first failure's message, to show why (messages of Leasehold and pg carry no secret). */
  readonly firstError: string | undefined;
  readonly wallMs: number;
  /** Latency of each successful call, in milliseconds. */
  readonly latenciesMs: readonly number[];
};

/**
 * Runs `call` `total` times with `concurrency` in flight (each lane starts its next call when the
 * last one ends). A failed call is counted, not retried, and does not stop the loop.
 */
export async function closedLoop(
  total: number,
  concurrency: number,
  call: () => Promise<void>,
): Promise<LoopResult> {
  const latenciesMs: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const wallMs = await runConcurrently(total, concurrency, async () => {
    const started = performance.now();
    try {
      await call();
      latenciesMs.push(performance.now() - started);
    } catch (error) {
      failed += 1;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  });
  return { succeeded: latenciesMs.length, failed, firstError, wallMs, latenciesMs };
}

/** Successful calls per second of wall time. */
export const ratePerSecond = (result: Pick<LoopResult, "succeeded" | "wallMs">): number =>
  result.wallMs > 0 ? (result.succeeded * 1000) / result.wallMs : 0;

/**
 * The round with the highest rate. Other load on the machine only ever slows a round down, so the
 * fastest round is the least disturbed estimate of what the code can do.
 */
export function fastest<T>(rounds: readonly T[], rate: (round: T) => number): T {
  let best: T | undefined;
  for (const round of rounds) if (best === undefined || rate(round) > rate(best)) best = round;
  if (best === undefined) throw new Error("no rounds");
  return best;
}
