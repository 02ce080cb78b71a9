import { readAuditEvent } from "@leasehold/domain";
import { createGrantNotices } from "./grant-notices.js";
import type { EventOf, NoticeDeps } from "./notice-deps.js";
import { createNotificationDispatcher } from "./notification-lanes.js";
import { createPreApprovalNotices } from "./pre-approval-notices.js";
import { createRequestNotices } from "./request-notices.js";

export type NotificationDeps = NoticeDeps;

/**
 * Notifications, derived from the audit trail: every state change already writes an audit event in
 * its own transaction, so reading the trail in order loses nothing and needs no outbox. `dispatch`
 * queues one delivery per event (see notification-lanes.ts for the order they keep); `deliver` decides
 * from the event and the current database state what to tell whom, so a late or repeated delivery
 * shows the truth rather than replaying a stale one. The messenger (Slack) only renders and sends.
 */
export function createNotificationService(deps: NotificationDeps) {
  const { store, messenger, alertsChannel, log } = deps;
  const dispatcher = createNotificationDispatcher(deps);
  const requests = createRequestNotices(deps);
  const grants = createGrantNotices(deps);
  const preApprovals = createPreApprovalNotices(deps);

  const onRotationEvent = async (event: EventOf<"rotation">) => {
    if (!alertsChannel) return;
    if (event.action === "rotation.failed") {
      const { rotation, step, error, rolledBack } = event.data;
      await messenger.alert(alertsChannel, {
        kind: "rotation-failed",
        rotationId: rotation,
        step,
        error,
        rolledBack,
      });
    } else if (event.action === "rotation.overdue") {
      const { rotation, since, lastSuccessRunId, periodSeconds } = event.data;
      await messenger.alert(alertsChannel, {
        kind: "rotation-overdue",
        rotationId: rotation,
        since: new Date(since),
        everSucceeded: lastSuccessRunId !== null,
        periodSeconds,
      });
    }
  };

  const onRevocationEvent = async (event: EventOf<"revocation">) => {
    if (!alertsChannel) return;
    const { role, cutoffAt, revocations, kept, ended } = event.data;
    await messenger.alert(alertsChannel, {
      kind: "revocation-cutoff",
      role,
      cutoffAt: new Date(cutoffAt),
      revocations,
      kept,
      ended,
    });
  };

  return {
    dispatch: dispatcher.dispatch,

    /** Sends what one audit event means. */
    async deliver(seq: number): Promise<void> {
      const [stored] = await store.read((r) => r.audit.list({ afterSeq: seq - 1, limit: 1 }));
      if (!stored || stored.seq !== seq) return;
      const event = readAuditEvent(stored);
      if (!event) {
        // No retry can make it fit; the trail itself is checked by `audit verify`.
        log.warn({ seq, action: stored.action }, "audit event data does not fit its action; not notified");
        return;
      }
      if (event.subjectType === "request") await requests.onRequestEvent(event);
      else if (event.subjectType === "grant") await grants.onGrantEvent(event);
      else if (event.subjectType === "rotation") await onRotationEvent(event);
      else if (event.subjectType === "revocation") await onRevocationEvent(event);
      else if (event.subjectType === "preapproval") await preApprovals.onPreApprovalEvent(event);
      // Drift corrections are for the audit trail and the logs; nobody is notified of them.
    },

    /** The expiry reminder, if the grant is still active. */
    remind: grants.remind,
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
