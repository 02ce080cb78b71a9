import {
  createNotificationService,
  type Logger,
  type Messenger,
  type NotificationService,
} from "@leasehold/broker";
import { type LeaseholdConfig, slackSettingsSchema } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import type { QueueConnection } from "@leasehold/queue";
import type { OpenBroker } from "@leasehold/runtime";
import { createSlackClient, createSlackIdentity, createSlackMessenger } from "@leasehold/slack";
import { grantProcessors } from "./grant-processors.js";
import { startProcessors } from "./job-harness.js";
import {
  ensureNotificationSchedules,
  notificationProcessors,
  notificationQueue,
} from "./notification-processors.js";
import { ensureRotationSchedules, rotationProcessors } from "./rotation-processors.js";
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
  slack?: NotificationService | undefined;
  log: Logger;
}): Promise<{ close(): Promise<void> }> {
  const { open, queue, log } = options;
  const workers = startProcessors(
    [
      ...grantProcessors(open.broker.grants, { concurrency: options.concurrency }),
      ...rotationProcessors(open),
      ...(options.slack ? notificationProcessors(options.slack) : []),
    ],
    queue,
    { lockMs: options.lockMs, log },
  );
  await ensureRotationSchedules(open);
  log.info({ rotations: open.config.rotations.length }, "rotation schedules registered");
  if (options.slack) await ensureNotificationSchedules(queue);
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
      ...(options.slack
        ? [{ name: "notification schedules", run: () => ensureNotificationSchedules(queue) }]
        : []),
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

/** Notifications through Slack over an opened broker, with the settings from leasehold.yaml. */
export function createNotifierFor(
  open: OpenBroker & { config: LeaseholdConfig },
  slack: { token: string; apiUrl: string | undefined },
  log: Logger,
): NotificationService {
  const settings = open.config.slack ?? slackSettingsSchema.parse({});
  const client = createSlackClient(slack);
  const messenger: Messenger = createSlackMessenger({
    client,
    identity: createSlackIdentity(settings, client),
  });
  return createNotificationService({
    store: open.store,
    targets: open.targets,
    messenger,
    queue: notificationQueue(open.producer),
    alertsChannel: settings.alertsChannel,
    clock: systemClock,
    log,
  });
}
