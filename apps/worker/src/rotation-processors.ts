import { randomInt } from "node:crypto";
import type { LeaseholdConfig } from "@leasehold/config";
import { rotationRunJobId } from "@leasehold/queue";
import type { OpenBroker } from "@leasehold/runtime";
import { defineProcessor, type Processor } from "./job-harness.js";

/**
 * Rotations on their schedules. Each rotation has a BullMQ job scheduler (cron, UTC), so a tick makes
 * one job however many workers run; the tick queues the run after a random jitter, under a job id made
 * from the tick, and the run is unique per trigger in the database too.
 */
export function rotationProcessors(open: OpenBroker & { config: LeaseholdConfig }): Processor[] {
  const rotations = new Map(open.config.rotations.map((r) => [r.id, r]));
  return [
    defineProcessor({
      queue: "rotationTick",
      concurrency: 1,
      run: async (payload, job) => {
        const rotation = rotations.get(payload.rotationId);
        if (!rotation) return;
        const triggerKey = `tick-${job.jobId}`;
        const jitterMs =
          rotation.schedule.jitterSeconds > 0 ? randomInt(rotation.schedule.jitterSeconds * 1000) : 0;
        await open.producer.add(
          "rotationRun",
          { rotationId: rotation.id, triggerKey, triggeredBy: "system:schedule" },
          rotationRunJobId(rotation.id, triggerKey),
          jitterMs,
        );
      },
    }),
    defineProcessor({
      queue: "rotationRun",
      concurrency: 2,
      run: async (payload, attempt) => {
        const run = await open.broker.rotations.start(payload.rotationId, {
          key: payload.triggerKey,
          by: payload.triggeredBy,
        });
        await open.broker.rotations.execute(run.id, attempt);
      },
    }),
  ];
}

/**
 * One cron job scheduler per configured rotation; the sweep calls this again to restore what Redis
 * lost. It goes through the broker's shared producer, so a sweep opens no Redis connection of its own.
 */
export const ensureRotationSchedules = (open: OpenBroker & { config: LeaseholdConfig }): Promise<void> =>
  open.producer.syncCronSchedulers(
    "rotationTick",
    open.config.rotations.map((r) => ({
      id: `rotation-${r.id}`,
      cron: r.schedule.cron,
      data: { rotationId: r.id },
    })),
  );
