import {
  type Alert,
  type BreakGlassCard,
  type DirectMessage,
  type MessageRef,
  type Metrics,
  noMetrics,
  type RequestCard,
  RetryAfterError,
  UpstreamError,
} from "@leasehold/domain";
import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { renderAuditSinkFailingAlert } from "./audit-sink-alert.js";
import { renderBreakGlassDm, renderBreakGlassMessage } from "./break-glass-message.js";
import {
  renderAutoApprovedAlert,
  renderDecisionDm,
  renderEndedDm,
  renderEscalatedDm,
  renderGrantedDm,
  renderPreApprovalAlert,
  renderReminderDm,
  renderRevocationCutoffAlert,
  renderRevocationDebtAlert,
  renderRotationFailedAlert,
  renderRotationOverdueAlert,
} from "./dm-messages.js";
import { renderRequestMessage } from "./request-message.js";
import { retryAfterSeconds } from "./slack-client.js";
import type { SlackIdentity } from "./slack-identity.js";

/** A direct message as Slack shows it. */
export function renderDirectMessage(message: DirectMessage) {
  switch (message.kind) {
    case "decision":
      return renderDecisionDm(message);
    case "granted":
      return renderGrantedDm(message);
    case "reminder":
      return renderReminderDm(message);
    case "ended":
      return renderEndedDm(message);
    case "escalated":
      return renderEscalatedDm(message);
    case "break-glass":
      return renderBreakGlassDm(message);
  }
}

/** An alert as Slack shows it. */
export function renderAlert(alert: Alert) {
  switch (alert.kind) {
    case "revocation-debt":
      return renderRevocationDebtAlert(alert);
    case "rotation-failed":
      return renderRotationFailedAlert(alert);
    case "rotation-overdue":
      return renderRotationOverdueAlert(alert);
    case "revocation-cutoff":
      return renderRevocationCutoffAlert(alert);
    case "auto-approved":
      return renderAutoApprovedAlert(alert);
    case "pre-approval":
      return renderPreApprovalAlert(alert);
    case "audit-sink-failing":
      return renderAuditSinkFailingAlert(alert);
  }
}

/**
 * A Web API failure as the domain knows it: a rate limit becomes RetryAfterError (Slack's
 * Retry-After), anything else a retryable UpstreamError naming the method and Slack's error code.
 * Slack's codes (`channel_not_found`, `internal_error`) never carry a token or message text.
 */
export function slackFailure(method: string, error: unknown): UpstreamError {
  const wait = retryAfterSeconds(error);
  if (wait !== undefined) return new RetryAfterError(`Slack ${method} is rate limited`, wait * 1000);
  const e = error as { data?: { error?: string }; code?: string } | undefined;
  const code = e?.data?.error ?? e?.code;
  return new UpstreamError(`Slack ${method} failed: ${code ?? "unknown error"}`, {
    retryable: true,
    upstreamCode: code,
  });
}

/** A Web API call, its failure translated, its outcome counted (delivered, failed, rate_limited). */
const callCounting =
  (metrics: Metrics) =>
  async <T>(method: string, work: () => Promise<T>): Promise<T> => {
    try {
      const result = await work();
      metrics.slackDelivery("delivered");
      return result;
    } catch (error) {
      const failure = slackFailure(method, error);
      metrics.slackDelivery(failure instanceof RetryAfterError ? "rate_limited" : "failed");
      throw failure;
    }
  };

/**
 * Slack as the notification use case's messenger (the Messenger contract in @leasehold/broker):
 * renders each notice with the functions in this package and sends it with the Web API client.
 */
export function createSlackMessenger(deps: {
  client: WebClient;
  identity: SlackIdentity;
  metrics?: Metrics;
}) {
  const { client, identity } = deps;
  const call = callCounting(deps.metrics ?? noMetrics);
  const post = (channel: string, message: { text: string; blocks: KnownBlock[] }) =>
    call("chat.postMessage", () =>
      client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }),
    );
  return {
    async postRequestCard(channel: string, card: RequestCard): Promise<MessageRef> {
      const posted = await call("chat.postMessage", () =>
        client.chat.postMessage({ channel, ...renderRequestMessage(card) }),
      );
      if (!posted.ts) throw new UpstreamError("chat.postMessage answered without a ts", { retryable: true });
      return { channel: posted.channel ?? channel, ts: posted.ts };
    },

    async updateRequestCard(message: MessageRef, card: RequestCard) {
      await call("chat.update", () =>
        client.chat.update({ channel: message.channel, ts: message.ts, ...renderRequestMessage(card) }),
      );
    },

    async postBreakGlassCard(channel: string, card: BreakGlassCard): Promise<MessageRef> {
      const posted = await post(channel, renderBreakGlassMessage(card));
      if (!posted.ts) throw new UpstreamError("chat.postMessage answered without a ts", { retryable: true });
      return { channel: posted.channel ?? channel, ts: posted.ts };
    },

    async updateBreakGlassCard(message: MessageRef, card: BreakGlassCard) {
      await call("chat.update", () =>
        client.chat.update({ channel: message.channel, ts: message.ts, ...renderBreakGlassMessage(card) }),
      );
    },

    async directMessage(principalId: string, message: DirectMessage): Promise<"sent" | "no-recipient"> {
      const user = await call("users.lookupByEmail", () => identity.slackUserFor(principalId));
      if (!user) return "no-recipient";
      await post(user, renderDirectMessage(message));
      return "sent";
    },

    async alert(channel: string, alert: Alert) {
      await post(channel, renderAlert(alert));
    },
  };
}

export type SlackMessenger = ReturnType<typeof createSlackMessenger>;
