import type { Logger } from "@leasehold/broker";
import { type LeaseholdConfig, slackSettingsSchema } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import type { QueueConnection } from "@leasehold/queue";
import type { OpenBroker } from "@leasehold/runtime";
import {
  createSlackClient,
  createSlackIdentity,
  createSlackNotifier,
  ensureSlackSchedules,
  type SlackNotifier,
  startSlackProcessors,
} from "@leasehold/slack";
import { startGrantProcessors } from "./grant-processors.js";
import { ensureRotationSchedules, startRotationProcessors } from "./rotation-processors.js";
import { startSweepLoop } from "./sweep-loop.js";

/**
 * How soon the sweep runs again after it found grants overdue (their expiry jobs lost, as after a
 * Redis flush): short, so that each of them ends about a second late rather than up to an interval.
 */
const CATCH_UP_MS = 1000;

/** Runs the processors and the sweep over an opened broker; used by main.ts and local mode. */
export async function startWorker(options: {
  open: OpenBroker & { config: LeaseholdConfig };
  queue: QueueConnection;
  concurrency: number;
  lockMs: number;
  sweepIntervalMs: number;
  /** Present when Slack is configured: notifications and reminders run here too. */
  slack?: SlackNotifier | undefined;
  log: Logger;
}): Promise<{ close(): Promise<void> }> {
  const { open, queue, log } = options;
  const workers = startGrantProcessors(open.broker.grants, queue, {
    concurrency: options.concurrency,
    lockMs: options.lockMs,
    log,
  });
  workers.push(...(await startRotationProcessors(open, queue, { lockMs: options.lockMs, log })));
  if (options.slack) {
    workers.push(...(await startSlackProcessors(options.slack, queue, { log, lockMs: options.lockMs })));
  }
  const sweep = startSweepLoop({
    intervalMs: options.sweepIntervalMs,
    catchUpMs: CATCH_UP_MS,
    log,
    steps: [
      // Behind when it expired grants their jobs should have expired: then it sweeps again in a second.
      {
        name: "reconcile",
        run: async (signal) => ({ behind: (await open.broker.reconcile.run(signal)).overdue > 0 }),
      },
      // A rotation run untouched for a quarter of an hour has lost its job; queue it again.
      {
        name: "rotations",
        run: () => open.broker.rotations.resumeStalled(new Date(Date.now() - 15 * 60_000), 100),
      },
      // Job schedulers live in Redis: after a flush or a restart without persistence, put them back.
      { name: "rotation schedules", run: () => ensureRotationSchedules(open) },
      ...(options.slack ? [{ name: "slack schedules", run: () => ensureSlackSchedules(queue) }] : []),
    ],
  });
  log.info({ sweepIntervalSeconds: options.sweepIntervalMs / 1000 }, "leasehold worker running");
  return {
    // The sweep stops first; workers finish the jobs they hold, and nothing is taken from Redis after.
    close: async () => {
      await sweep.close();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/** The Slack notifier over an opened broker, with the settings from leasehold.yaml. */
export function createNotifierFor(
  open: OpenBroker & { config: LeaseholdConfig },
  slack: { token: string; apiUrl: string | undefined },
  log: Logger,
): SlackNotifier {
  const settings = open.config.slack ?? slackSettingsSchema.parse({});
  const client = createSlackClient(slack);
  return createSlackNotifier({
    store: open.store,
    targets: open.targets,
    client,
    identity: createSlackIdentity(settings, client),
    producer: open.producer,
    settings,
    clock: systemClock,
    log,
  });
}
