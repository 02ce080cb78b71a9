import type { Logger, TargetCatalog } from "@leasehold/broker";
import type { SlackSettings } from "@leasehold/config";
import type { Store } from "@leasehold/db";
import {
  type AuditAction,
  type AuditEvent,
  type Clock,
  type Grant,
  tallyReviews,
  UpstreamError,
} from "@leasehold/domain";
import type { QueueProducer } from "@leasehold/queue";
import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import {
  renderDecisionDm,
  renderEndedDm,
  renderGrantedDm,
  renderReminderDm,
  renderRevocationDebtAlert,
  renderRotationFailedAlert,
} from "./dm-messages.js";
import { type RequestCard, renderRequestMessage } from "./request-message.js";
import type { SlackIdentity } from "./slack-identity.js";

/** The audit cursor this notifier keeps. */
export const SLACK_CURSOR = "slack";
/** Events read per dispatch. */
const DISPATCH_BATCH = 500;
/** The Extend button adds at most this much. */
const EXTEND_STEP_SECONDS = 1800;

/** The audit events that produce a Slack message. */
const NOTIFIED: ReadonlySet<AuditAction> = new Set<AuditAction>([
  "request.created",
  "request.reviewed",
  "request.approved",
  "request.denied",
  "request.cancelled",
  "request.expired",
  "grant.issued",
  "grant.extended",
  "grant.expired",
  "grant.revoked",
  "grant.issue_failed",
  "grant.revocation_failed",
  "rotation.failed",
]);

export type SlackNotifierDeps = {
  readonly store: Store;
  readonly targets: TargetCatalog;
  readonly client: WebClient;
  readonly identity: SlackIdentity;
  readonly producer: Pick<QueueProducer, "add" | "schedule">;
  readonly settings: SlackSettings;
  readonly clock: Clock;
  readonly log: Logger;
};

/**
 * Slack notifications, derived from the audit trail: every state change already writes an audit
 * event in its own transaction, so reading the trail in order loses nothing and needs no outbox. The
 * dispatcher turns new events into one queued job each (job id `audit-<seq>`); each job renders from
 * the current database state, so a late or repeated job shows the truth rather than replaying a stale one.
 */
export function createSlackNotifier(deps: SlackNotifierDeps) {
  const { store, targets, client, identity, producer, settings, clock, log } = deps;

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
    const message = renderRequestMessage(card);
    if (existing) {
      await client.chat.update({ channel: existing.channel, ts: existing.ts, ...message });
      return;
    }
    if (mustExist) {
      // The job that posts it has not finished yet; this update is retried after it.
      throw new UpstreamError(`the Slack message for request ${requestId} is not posted yet`, {
        retryable: true,
      });
    }
    const posted = await client.chat.postMessage({ channel, ...message });
    if (!posted.ts) throw new UpstreamError("chat.postMessage answered without a ts", { retryable: true });
    await store.transaction((r) =>
      r.notifications.saveRequestMessage(
        { requestId, channel: posted.channel ?? channel, ts: posted.ts ?? "" },
        clock(),
      ),
    );
  };

  const dm = async (principalId: string, message: { text: string; blocks: KnownBlock[] }) => {
    const user = await identity.slackUserFor(principalId);
    if (!user) {
      log.info({ principal: principalId }, "no Slack user for this principal; direct message skipped");
      return;
    }
    await client.chat.postMessage({ channel: user, text: message.text, blocks: message.blocks });
  };

  const grantOf = (grantId: string) => store.read((r) => r.grants.findById(grantId));

  /** How much the reminder's Extend button may add within the target's policy (0: none). */
  const extendAllowance = (grant: Grant): number => {
    const target = targets.get(grant.targetId);
    if (!target || !grant.issuedAt || !grant.expiresAt) return 0;
    const max = Math.min(target.maxDurationSeconds, target.durationLimits.maxSeconds);
    const lived = Math.round((grant.expiresAt.getTime() - grant.issuedAt.getTime()) / 1000);
    const room = Math.min(EXTEND_STEP_SECONDS, max - lived);
    return room >= 60 ? room : 0;
  };

  /** Reminds the holder before the deadline: 5 minutes, or a fifth of the grant for short ones. */
  const scheduleReminder = async (grant: Grant) => {
    if (!grant.expiresAt) return;
    const leadMs = Math.min(300_000, grant.durationSeconds * 200);
    const at = new Date(Math.max(clock().getTime(), grant.expiresAt.getTime() - leadMs));
    await producer.schedule("slackReminder", { grantId: grant.id }, grant.id, at, clock());
  };

  const onGrantEvent = async (event: AuditEvent) => {
    const grant = await grantOf(event.subjectId);
    if (!grant) return;
    // Workload leases have no person to tell; only revocation debt concerns someone.
    if (grant.requestId === null && event.action !== "grant.revocation_failed") return;
    switch (event.action) {
      case "grant.issued":
      case "grant.extended":
        if (grant.state !== "active" || !grant.expiresAt) return;
        await dm(
          grant.principalId,
          renderGrantedDm({
            grantId: grant.id,
            targetId: grant.targetId,
            expiresAt: grant.expiresAt,
            extended: event.action === "grant.extended",
          }),
        );
        await scheduleReminder(grant);
        return;
      case "grant.expired":
      case "grant.revoked":
        await dm(
          grant.principalId,
          renderEndedDm({
            targetId: grant.targetId,
            how: event.action === "grant.expired" ? "expired" : "revoked",
            detail: null,
          }),
        );
        return;
      case "grant.issue_failed":
        await dm(
          grant.principalId,
          renderEndedDm({ targetId: grant.targetId, how: "failed", detail: String(event.data.error ?? "") }),
        );
        return;
      case "grant.revocation_failed": {
        const alert = renderRevocationDebtAlert({
          grantId: grant.id,
          targetId: grant.targetId,
          principalId: grant.principalId,
          error: String(event.data.error ?? "unknown"),
        });
        const channels = new Set([targets.get(grant.targetId)?.slackChannel, settings.alertsChannel]);
        for (const channel of channels) {
          if (channel) await client.chat.postMessage({ channel, text: alert.text, blocks: alert.blocks });
        }
        return;
      }
      default:
        return;
    }
  };

  const onRequestEvent = async (event: AuditEvent) => {
    await showRequest(event.subjectId, event.action !== "request.created");
    if (event.action !== "request.approved" && event.action !== "request.denied") return;
    const card = await requestCard(event.subjectId);
    if (!card) return;
    await dm(
      card.request.requesterId,
      renderDecisionDm({
        targetId: card.request.targetId,
        outcome: event.action === "request.approved" ? "approved" : "denied",
        by: event.action === "request.approved" ? card.approvals : [card.deniedBy ?? event.actor],
        comment: card.denyComment,
      }),
    );
  };

  return {
    /** Enqueues a job for each new audit event that Slack should hear of; returns how many. */
    async dispatch(): Promise<number> {
      const after = await store.read((r) => r.notifications.cursor(SLACK_CURSOR));
      const events = await store.read((r) => r.audit.list({ afterSeq: after, limit: DISPATCH_BATCH }));
      const wanted = events.filter((e) => NOTIFIED.has(e.action));
      for (const event of wanted) {
        await producer.add("slackNotify", { seq: event.seq }, `audit-${event.seq}`);
      }
      const last = events.at(-1);
      if (last) await store.transaction((r) => r.notifications.advanceCursor(SLACK_CURSOR, last.seq));
      return wanted.length;
    },

    /** Sends what one audit event means in Slack. */
    async notify(seq: number): Promise<void> {
      const [event] = await store.read((r) => r.audit.list({ afterSeq: seq - 1, limit: 1 }));
      if (!event || event.seq !== seq) return;
      if (event.subjectType === "request") await onRequestEvent(event);
      else if (event.subjectType === "grant") await onGrantEvent(event);
      else if (settings.alertsChannel) {
        const alert = renderRotationFailedAlert({
          rotationId: String(event.data.rotation ?? ""),
          step: String(event.data.step ?? ""),
          error: String(event.data.error ?? ""),
          rolledBack: event.data.rolledBack === true,
        });
        await client.chat.postMessage({
          channel: settings.alertsChannel,
          text: alert.text,
          blocks: alert.blocks,
        });
      }
    },

    /** The expiry reminder, if the grant is still active. */
    async remind(grantId: string): Promise<void> {
      const grant = await grantOf(grantId);
      if (grant?.state !== "active" || !grant.expiresAt || grant.expiresAt <= clock()) return;
      await dm(
        grant.principalId,
        renderReminderDm({
          grantId: grant.id,
          targetId: grant.targetId,
          expiresAt: grant.expiresAt,
          extendBySeconds: extendAllowance(grant),
        }),
      );
    },
  };
}

export type SlackNotifier = ReturnType<typeof createSlackNotifier>;
