import { randomInt } from "node:crypto";
import type { Logger } from "@leasehold/broker";
import type { LeaseholdConfig } from "@leasehold/config";
import { type QueueConnection, type QueueWorker, rotationRunJobId, startQueueWorker } from "@leasehold/queue";
import type { OpenBroker } from "@leasehold/runtime";
import { asJob } from "./grant-processors.js";

/**
 * Rotations on their schedules. Each rotation has a BullMQ job scheduler (cron, UTC), so a tick makes
 * one job however many workers run; the tick queues the run after a random jitter, under a job id made
 * from the tick, and the run is unique per trigger in the database too.
 */
export async function startRotationProcessors(
  open: OpenBroker & { config: LeaseholdConfig },
  connection: QueueConnection,
  options: { lockMs: number; log: Logger },
): Promise<QueueWorker[]> {
  const rotations = new Map(open.config.rotations.map((r) => [r.id, r]));
  const workers = [
    startQueueWorker(
      "rotationTick",
      async (payload, context) => {
        const rotation = rotations.get(payload.rotationId);
        if (!rotation) return;
        const triggerKey = `tick-${context.jobId}`;
        const jitterMs =
          rotation.schedule.jitterSeconds > 0 ? randomInt(rotation.schedule.jitterSeconds * 1000) : 0;
        await open.producer.add(
          "rotationRun",
          { rotationId: rotation.id, triggerKey, triggeredBy: "system:schedule" },
          rotationRunJobId(rotation.id, triggerKey),
          jitterMs,
        );
      },
      connection,
      { lockMs: options.lockMs, concurrency: 1 },
    ),
    startQueueWorker(
      "rotationRun",
      (payload, context) =>
        asJob(context, async (attempt) => {
          const run = await open.broker.rotations.start(payload.rotationId, {
            key: payload.triggerKey,
            by: payload.triggeredBy,
          });
          await open.broker.rotations.execute(run.id, attempt);
        }),
      connection,
      { lockMs: options.lockMs, concurrency: 2 },
    ),
  ];
  await ensureRotationSchedules(open);
  options.log.info({ rotations: rotations.size }, "rotation schedules registered");
  return workers;
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
