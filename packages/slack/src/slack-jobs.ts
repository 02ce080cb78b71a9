import type { Logger } from "@leasehold/broker";
import {
  type JobContext,
  type QueueConnection,
  type QueueWorker,
  scheduleRepeating,
  startQueueWorker,
} from "@leasehold/queue";
import { retryAfterSeconds } from "./slack-client.js";
import type { SlackNotifier } from "./slack-notifier.js";

/** How often new audit events are turned into notifications. */
const DISPATCH_EVERY_MS = 1000;

/**
 * Runs a Slack call as a job: a rate limit puts the job back for as long as Slack asked (without
 * using an attempt); any other failure is retried with backoff, and the last failure is
 * logged as a lost notification.
 */
async function asSlackJob(context: JobContext, log: Logger, what: string, work: () => Promise<void>) {
  try {
    await work();
  } catch (error) {
    const wait = retryAfterSeconds(error);
    if (wait !== undefined) throw await context.retryAfter(wait * 1000);
    const code =
      (error as { data?: { error?: string }; code?: string }).data?.error ??
      (error as { code?: string }).code;
    if (context.attempt >= context.maxAttempts) {
      log.error(
        { what, code, attempts: context.attempt },
        "SLACK NOTIFICATION NOT DELIVERED after every retry",
      );
    }
    throw new Error(`Slack call failed: ${code ?? "unknown error"}`);
  }
}

/** The worker side of Slack: dispatch (every second), notifications, reminders. */
export async function startSlackProcessors(
  notifier: SlackNotifier,
  connection: QueueConnection,
  options: { log: Logger; lockMs: number },
): Promise<QueueWorker[]> {
  // Well under Slack's own limits for one app.
  const common = { lockMs: options.lockMs, concurrency: 4, limiter: { max: 20, durationMs: 1000 } };
  const workers = [
    startQueueWorker(
      "slackNotify",
      (payload, context) =>
        asSlackJob(context, options.log, `audit event ${payload.seq}`, () => notifier.notify(payload.seq)),
      connection,
      common,
    ),
    startQueueWorker(
      "slackReminder",
      (payload, context) =>
        asSlackJob(context, options.log, `reminder ${payload.grantId}`, () =>
          notifier.remind(payload.grantId),
        ),
      connection,
      common,
    ),
    startQueueWorker(
      "slackDispatch",
      async () => {
        await notifier.dispatch();
      },
      connection,
      { ...common, concurrency: 1 },
    ),
  ];
  await ensureSlackSchedules(connection);
  return workers;
}

/** The dispatch schedule; the worker's sweep calls this again to restore it if Redis lost it. */
export const ensureSlackSchedules = (connection: QueueConnection): Promise<void> =>
  scheduleRepeating(connection, "slackDispatch", DISPATCH_EVERY_MS);
