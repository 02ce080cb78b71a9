import type { Attempt, ExpiryItem, ExpiryResult } from "@leasehold/broker";

/**
 * Calls of `expireMany` in flight at once. More than one, so that a provider call that hangs (a Vault
 * that does not answer until the job's signal aborts it) holds up only its own batch; few, so that
 * under load the jobs still gather into large batches.
 */
export const EXPIRY_CALLS_IN_FLIGHT = 4;

/**
 * Gathers the expiry jobs that run at the same moment into one `expireMany` call, so that a minute
 * in which thousands of grants come due costs a few hundred transactions, not one per grant (each
 * takes the audit chain's head lock, which serializes them). At most EXPIRY_CALLS_IN_FLIGHT calls run
 * at a time: jobs that arrive while they all run wait for the next free one, so batches grow with
 * the load and a lone job waits for nothing. Each job still gets its own outcome, and BullMQ retries
 * it alone.
 */
export function createExpiryBatcher(expireMany: (items: readonly ExpiryItem[]) => Promise<ExpiryResult[]>): {
  expire(grantId: string, attempt: Attempt): Promise<"expired" | "skipped">;
} {
  type Waiting = {
    item: ExpiryItem;
    resolve(outcome: "expired" | "skipped"): void;
    reject(error: unknown): void;
  };
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let startScheduled = false;

  const settle = async (batch: Waiting[]) => {
    try {
      const results = await expireMany(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        const result = results[i];
        if (!result) w.reject(new Error(`no expiry outcome for grant ${w.item.grantId}`));
        else if ("error" in result) w.reject(result.error);
        else w.resolve(result.outcome);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  };
  /** Starts a call with everything waiting, if a call is free; a finished call starts the next. */
  const startCall = () => {
    if (waiting.length === 0 || inFlight >= EXPIRY_CALLS_IN_FLIGHT) return;
    const batch = waiting;
    waiting = [];
    inFlight += 1;
    void settle(batch).finally(() => {
      inFlight -= 1;
      startCall();
    });
  };

  return {
    expire: (grantId, attempt) =>
      new Promise((resolve, reject) => {
        waiting.push({ item: { grantId, attempt }, resolve, reject });
        // On the next turn of the event loop, so jobs BullMQ hands over together share one call.
        if (!startScheduled) {
          startScheduled = true;
          setImmediate(() => {
            startScheduled = false;
            startCall();
          });
        }
      }),
  };
}
