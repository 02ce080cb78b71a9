import type { Store } from "@leasehold/db";
import type { AuditAction, AuditEvent } from "@leasehold/domain";
import type { NotificationQueue } from "./messenger.js";

/** The audit cursor of the notification dispatcher (named when Slack was the only messenger). */
export const NOTIFICATION_CURSOR = "slack";
/** Events read per dispatch. */
const DISPATCH_BATCH = 500;

/** The audit events that produce a notification. */
export const NOTIFIED: ReadonlySet<AuditAction> = new Set<AuditAction>([
  "request.created",
  "request.reviewed",
  "request.approved",
  "request.denied",
  "request.cancelled",
  "request.expired",
  "request.escalated",
  // Always: a break-glass is broadcast and its review shown, whatever the policies say.
  "request.break_glass",
  "request.break_glass_reviewed",
  "grant.issued",
  "grant.extended",
  "grant.expired",
  "grant.revoked",
  "grant.issue_failed",
  "grant.revocation_failed",
  "rotation.failed",
  "rotation.overdue",
  "preapproval.created",
]);

/** The cursor row that remembers the newest event queued in a lane. */
const laneCursor = (lane: string) => `${NOTIFICATION_CURSOR}-lane:${lane}`;

/**
 * Turns new audit events into queued deliveries, in audit order, each chained to the previous event
 * of its lane. A lane is the person the event concerns (a request's requester, a grant's holder, a
 * pre-approval's person), so "approved, issuing now" and "granted until" reach them in the order they
 * happened, and a request's card sees its changes in order; rotations share one lane. Lanes do not wait for each other.
 *
 * The global cursor and each lane's newest queued event are advanced in one transaction after the
 * batch is queued: a dispatch that fails midway queues the same deliveries, with the same
 * predecessors, the next time (delivery ids are per seq, so nothing is queued twice).
 */
export function createNotificationDispatcher(deps: {
  readonly store: Store;
  readonly queue: Pick<NotificationQueue, "deliver">;
}) {
  const { store, queue } = deps;

  const laneOf = async (event: AuditEvent): Promise<string> => {
    if (event.subjectType === "rotation") return "rotations";
    const person = await store.read(async (r) => {
      if (event.subjectType === "request") return (await r.requests.findById(event.subjectId))?.requesterId;
      // The pre-approved person's lane: the window is announced before their requests inside it.
      if (event.subjectType === "preapproval") {
        return (await r.preApprovals.findById(event.subjectId))?.principalId;
      }
      return (await r.grants.findById(event.subjectId))?.principalId;
    });
    // A subject that is gone gets a lane of its own; its delivery will find nothing to say.
    return person === undefined ? `${event.subjectType}:${event.subjectId}` : `person:${person}`;
  };

  return {
    /** Queues a delivery for each new audit event that someone should hear of; returns how many. */
    async dispatch(): Promise<number> {
      const after = await store.read((r) => r.notifications.cursor(NOTIFICATION_CURSOR));
      const events = await store.read((r) => r.audit.list({ afterSeq: after, limit: DISPATCH_BATCH }));
      const wanted = events.filter((e) => NOTIFIED.has(e.action));
      const newest = new Map<string, number>();
      for (const event of wanted) {
        const lane = await laneOf(event);
        const previous =
          newest.get(lane) ?? (await store.read((r) => r.notifications.cursor(laneCursor(lane))));
        await queue.deliver(event.seq, previous > 0 ? previous : undefined);
        newest.set(lane, event.seq);
      }
      const last = events.at(-1);
      if (last) {
        await store.transaction(async (r) => {
          for (const [lane, seq] of newest) await r.notifications.advanceCursor(laneCursor(lane), seq);
          await r.notifications.advanceCursor(NOTIFICATION_CURSOR, last.seq);
        });
      }
      return wanted.length;
    },
  };
}
