import type { Alert, BreakGlassCard, DirectMessage, MessageRef, RequestCard } from "@leasehold/domain";

/**
 * What the notification use case needs from a chat platform; Slack's adapter implements it in
 * @leasehold/slack. Rendering and identity (which account a principal is) are the adapter's.
 *
 * Failures reject with an UpstreamError (retryable when trying again may help); a platform that says
 * "too many requests, retry after" rejects with a RetryAfterError, so the job waits without using an
 * attempt. A call that timed out may still have been delivered: delivery is at least once.
 */
export type Messenger = {
  /** Posts a request's card to an approvers' channel; returns where it landed. */
  postRequestCard(channel: string, card: RequestCard): Promise<MessageRef>;
  /** Rewrites a posted card in place. */
  updateRequestCard(message: MessageRef, card: RequestCard): Promise<void>;
  /** Posts the broadcast of a break-glass (with its review actions) to a channel; returns where it landed. */
  postBreakGlassCard(channel: string, card: BreakGlassCard): Promise<MessageRef>;
  /** Rewrites a posted break-glass broadcast in place (its review). */
  updateBreakGlassCard(message: MessageRef, card: BreakGlassCard): Promise<void>;
  /** Messages the person behind `principalId`; "no-recipient" when they have no account there. */
  directMessage(principalId: string, message: DirectMessage): Promise<"sent" | "no-recipient">;
  /** Posts an alert to a channel. */
  alert(channel: string, alert: Alert): Promise<void>;
};

/** Where the use case queues its own work: one delivery per audit event, and the expiry reminders. */
export type NotificationQueue = {
  /**
   * Queues the delivery of audit event `seq` (idempotent per seq). `after` is the previous event in
   * the same lane: the delivery must wait until that one is done, so one person's messages keep order.
   */
  deliver(seq: number, after: number | undefined): Promise<void>;
  /** Queues (or moves) the expiry reminder of a grant to `at`; `now` is the caller's clock. */
  remindAt(grantId: string, at: Date, now: Date): Promise<void>;
};
