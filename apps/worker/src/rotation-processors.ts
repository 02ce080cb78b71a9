import type { Broker } from "@leasehold/broker";
import { defineProcessor, type Processor } from "./job-harness.js";

/**
 * Rotations on their schedules. Each rotation has a BullMQ job scheduler (cron, UTC), so a tick makes
 * one job however many workers run; the tick queues the run after a random jitter, under a job id made
 * from the tick, and the run is unique per trigger in the database too.
 */
export function rotationProcessors(
  rotations: Pick<Broker["rotations"], "tick" | "start" | "execute">,
): Processor[] {
  return [
    defineProcessor({
      queue: "rotationTick",
      concurrency: 1,
      run: (payload, job) => rotations.tick(payload.rotationId, job.jobId),
    }),
    defineProcessor({
      queue: "rotationRun",
      concurrency: 2,
      run: async (payload, attempt) => {
        // Starting is idempotent per trigger: a retried job resumes the run it started.
        const run = await rotations.start(payload.rotationId, {
          key: payload.triggerKey,
          by: payload.triggeredBy,
        });
        await rotations.execute(run.id, attempt);
      },
    }),
  ];
}
