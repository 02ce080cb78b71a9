import type { NotificationQueue, NotificationService } from "@leasehold/broker";
import { notifyJobId, type QueueConnection, type QueueProducer, scheduleRepeating } from "@leasehold/queue";
import { defineProcessor, type Processor } from "./job-harness.js";

/** How often new audit events are turned into notifications. */
const DISPATCH_EVERY_MS = 1000;
/** Well under Slack's own limits for one app. */
const SEND_LIMIT = { max: 20, durationMs: 1000 };
const NOT_DELIVERED = "NOTIFICATION NOT DELIVERED after every retry";

/**
 * Notifications: the dispatch (every second), one delivery per audit event, and the reminders. A
 * delivery waits until the previous delivery of its lane is done (`after`), so one person's messages
 * arrive in audit order even when one of them is rate limited or retried.
 */
export function notificationProcessors(notifications: NotificationService): Processor[] {
  return [
    defineProcessor({
      queue: "notifyDeliver",
      concurrency: 4,
      limiter: SEND_LIMIT,
      after: (payload) => (payload.after === undefined ? undefined : notifyJobId(payload.after)),
      givingUp: NOT_DELIVERED,
      run: (payload) => notifications.deliver(payload.seq),
    }),
    defineProcessor({
      queue: "notifyReminder",
      concurrency: 4,
      limiter: SEND_LIMIT,
      givingUp: NOT_DELIVERED,
      run: (payload) => notifications.remind(payload.grantId),
    }),
    defineProcessor({ queue: "notifyDispatch", concurrency: 1, run: () => notifications.dispatch() }),
  ];
}

/** The use case's queue, over the worker's producer. */
export const notificationQueue = (producer: Pick<QueueProducer, "add" | "schedule">): NotificationQueue => ({
  deliver: (seq, after) =>
    producer.add("notifyDeliver", after === undefined ? { seq } : { seq, after }, notifyJobId(seq)),
  remindAt: (grantId, at, now) => producer.schedule("notifyReminder", { grantId }, grantId, at, now),
});

/** The dispatch schedule; the worker's sweep calls this again to restore it if Redis lost it. */
export const ensureNotificationSchedules = (connection: QueueConnection): Promise<void> =>
  scheduleRepeating(connection, "notifyDispatch", DISPATCH_EVERY_MS);
