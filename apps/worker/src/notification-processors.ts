import type { NotificationService } from "@leasehold/broker";
import { notifyJobId } from "@leasehold/queue";
import { defineProcessor, type Processor } from "./job-harness.js";

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
