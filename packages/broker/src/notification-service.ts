import type { Store } from "@leasehold/db";
import {
  type Clock,
  type DirectMessage,
  type Grant,
  PROVIDER_DURATION_LIMITS,
  type RequestCard,
  readAuditEvent,
  type TypedAuditEvent,
  tallyReviews,
  UpstreamError,
} from "@leasehold/domain";
import type { Logger, TargetCatalog } from "./broker-deps.js";
import type { Messenger, NotificationQueue } from "./messenger.js";
import { createNotificationDispatcher } from "./notification-lanes.js";

/** The Extend action adds at most this much. */
const EXTEND_STEP_SECONDS = 1800;

export type NotificationDeps = {
  readonly store: Store;
  readonly targets: TargetCatalog;
  readonly messenger: Messenger;
  readonly queue: NotificationQueue;
  /** Where revocation debt and failed rotations are announced, besides a target's own channel. */
  readonly alertsChannel: string | undefined;
  readonly clock: Clock;
  readonly log: Logger;
};

type EventOf<S extends TypedAuditEvent["subjectType"]> = Extract<TypedAuditEvent, { subjectType: S }>;

/**
 * Notifications, derived from the audit trail: every state change already writes an audit event in
 * its own transaction, so reading the trail in order loses nothing and needs no outbox. `dispatch`
 * queues one delivery per event (see notification-lanes.ts for the order they keep); `deliver` decides
 * from the event and the current database state what to tell whom, so a late or repeated delivery
 * shows the truth rather than replaying a stale one. The messenger (Slack) only renders and sends.
 */
export function createNotificationService(deps: NotificationDeps) {
  const { store, targets, messenger, queue, alertsChannel, clock, log } = deps;
  const dispatcher = createNotificationDispatcher({ store, queue });

  const requestCard = async (requestId: string): Promise<RequestCard | undefined> => {
    const [request, reviews] = await store.read((r) =>
      Promise.all([r.requests.findById(requestId), r.requests.listReviews(requestId)]),
    );
    if (!request) return undefined;
    const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
    return {
      request,
      targetDescription: targets.get(request.targetId)?.description ?? "",
      approvals: tally.approvers,
      needed: tally.needed,
      deniedBy: tally.deniedBy,
      denyComment: reviews.find((r) => r.decision === "deny")?.comment ?? null,
    };
  };

  /** Posts the request to its target's approvers' channel once, or rewrites the message in place. */
  const showRequest = async (requestId: string, mustExist: boolean) => {
    const card = await requestCard(requestId);
    const channel = card && targets.get(card.request.targetId)?.slackChannel;
    if (!card || !channel) return;
    const existing = await store.read((r) => r.notifications.findRequestMessage(requestId));
    if (existing) {
      await messenger.updateRequestCard(existing, card);
      return;
    }
    if (mustExist) {
      // The delivery that posts it has not finished yet; this update is retried after it.
      throw new UpstreamError(`the message for request ${requestId} is not posted yet`, { retryable: true });
    }
    const posted = await messenger.postRequestCard(channel, card);
    await store.transaction((r) =>
      r.notifications.saveRequestMessage({ requestId, channel: posted.channel, ts: posted.ts }, clock()),
    );
  };

  const dm = async (principalId: string, message: DirectMessage) => {
    if ((await messenger.directMessage(principalId, message)) === "no-recipient") {
      log.info({ principal: principalId }, "no messaging account for this principal; direct message skipped");
    }
  };

  const grantOf = (grantId: string) => store.read((r) => r.grants.findById(grantId));

  /** How much the reminder's Extend action may add within the target's policy (0: none). */
  const extendAllowance = (grant: Grant): number => {
    const target = targets.get(grant.targetId);
    if (!target || !grant.issuedAt || !grant.expiresAt) return 0;
    const max = Math.min(target.maxDurationSeconds, PROVIDER_DURATION_LIMITS[target.kind].maxSeconds);
    const lived = Math.round((grant.expiresAt.getTime() - grant.issuedAt.getTime()) / 1000);
    const room = Math.min(EXTEND_STEP_SECONDS, max - lived);
    return room >= 60 ? room : 0;
  };

  /** Reminds the holder before the deadline: 5 minutes, or a fifth of the grant for short ones. */
  const scheduleReminder = async (grant: Grant) => {
    if (!grant.expiresAt) return;
    const leadMs = Math.min(300_000, grant.durationSeconds * 200);
    const now = clock();
    await queue.remindAt(
      grant.id,
      new Date(Math.max(now.getTime(), grant.expiresAt.getTime() - leadMs)),
      now,
    );
  };

  const onGrantEvent = async (event: EventOf<"grant">) => {
    const grant = await grantOf(event.subjectId);
    if (!grant) return;
    // Workload leases have no person to tell; only revocation debt concerns someone.
    if (grant.requestId === null && event.action !== "grant.revocation_failed") return;
    const { id: grantId, targetId, principalId } = grant;
    switch (event.action) {
      case "grant.issued":
      case "grant.extended":
        if (grant.state !== "active" || !grant.expiresAt) return;
        await dm(principalId, {
          kind: "granted",
          grantId,
          targetId,
          expiresAt: grant.expiresAt,
          extended: event.action === "grant.extended",
        });
        await scheduleReminder(grant);
        return;
      case "grant.expired":
      case "grant.revoked":
        await dm(principalId, {
          kind: "ended",
          targetId,
          how: event.action === "grant.expired" ? "expired" : "revoked",
          detail: null,
        });
        return;
      case "grant.issue_failed":
        await dm(principalId, { kind: "ended", targetId, how: "failed", detail: event.data.error });
        return;
      case "grant.revocation_failed": {
        const channels = new Set([targets.get(targetId)?.slackChannel, alertsChannel]);
        for (const channel of channels) {
          if (!channel) continue;
          await messenger.alert(channel, {
            kind: "revocation-debt",
            grantId,
            targetId,
            principalId,
            error: event.data.error,
          });
        }
        return;
      }
      default:
        return;
    }
  };

  const onRequestEvent = async (event: EventOf<"request">) => {
    await showRequest(event.subjectId, event.action !== "request.created");
    if (event.action !== "request.approved" && event.action !== "request.denied") return;
    const card = await requestCard(event.subjectId);
    if (!card) return;
    const approved = event.action === "request.approved";
    await dm(card.request.requesterId, {
      kind: "decision",
      targetId: card.request.targetId,
      outcome: approved ? "approved" : "denied",
      by: approved ? card.approvals : [card.deniedBy ?? event.actor],
      comment: card.denyComment,
    });
  };

  const onRotationEvent = async (event: EventOf<"rotation">) => {
    if (event.action !== "rotation.failed" || !alertsChannel) return;
    const { rotation, step, error, rolledBack } = event.data;
    await messenger.alert(alertsChannel, {
      kind: "rotation-failed",
      rotationId: rotation,
      step,
      error,
      rolledBack,
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
      if (event.subjectType === "request") await onRequestEvent(event);
      else if (event.subjectType === "grant") await onGrantEvent(event);
      else await onRotationEvent(event);
    },

    /** The expiry reminder, if the grant is still active. */
    async remind(grantId: string): Promise<void> {
      const grant = await grantOf(grantId);
      if (grant?.state !== "active" || !grant.expiresAt || grant.expiresAt <= clock()) return;
      await dm(grant.principalId, {
        kind: "reminder",
        grantId: grant.id,
        targetId: grant.targetId,
        expiresAt: grant.expiresAt,
        extendBySeconds: extendAllowance(grant),
      });
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
