import type { BreakGlassCard } from "@leasehold/domain";
import { samePrincipalId } from "@leasehold/domain";
import { directMessageOrSkip, type EventOf, type NoticeDeps } from "./notice-deps.js";

type BreakGlassEvent = Extract<
  EventOf<"request">,
  { action: "request.break_glass" | "request.break_glass_reviewed" }
>;

/**
 * The broadcast of a break-glass, which no policy can switch off: a post (with Mark justified / Mark
 * unjustified) to `slack.alertsChannel` and to the target's approvers' channel, and a DM to each
 * approver the target names by user (never the requester). Each post is remembered per channel, so a
 * repeated delivery posts nothing twice, and the review rewrites every post in place. With neither
 * channel configured the DMs still go out and an error is logged: nobody would see the post.
 */
export function createBreakGlassNotices(deps: NoticeDeps) {
  const { store, targets, messenger, alertsChannel, clock, log } = deps;
  const dm = directMessageOrSkip(deps);

  const cardOf = async (requestId: string): Promise<BreakGlassCard | undefined> => {
    const [request, review] = await store.read((r) =>
      Promise.all([r.requests.findById(requestId), r.breakGlass.findReview(requestId)]),
    );
    if (!request?.breakGlass) return undefined;
    return {
      request,
      targetDescription: targets.get(request.targetId)?.description ?? "",
      review: review ?? null,
    };
  };

  /** Posts the card to each channel that has no post of it yet, and rewrites those that have one. */
  const broadcast = async (card: BreakGlassCard): Promise<string[]> => {
    const requestId = card.request.id;
    const wanted = [alertsChannel, targets.get(card.request.targetId)?.slackChannel];
    const channels = [...new Set(wanted.filter((c): c is string => c !== undefined))];
    if (channels.length === 0) {
      log.error(
        { requestId, targetId: card.request.targetId },
        "break-glass has no channel to be broadcast to: set slack.alertsChannel or the target's slack.approversChannel",
      );
    }
    const posted = await store.read((r) => r.breakGlass.listMessages(requestId));
    for (const channel of channels) {
      const existing = posted.find((m) => m.channel === channel);
      if (existing) {
        await messenger.updateBreakGlassCard(existing, card);
        continue;
      }
      const message = await messenger.postBreakGlassCard(channel, card);
      // Remembered under the channel asked for, which is how a retry looks it up.
      await store.transaction((r) =>
        r.breakGlass.saveMessage({ requestId, channel, ts: message.ts }, clock()),
      );
    }
    return channels;
  };

  return {
    async onEvent(event: BreakGlassEvent): Promise<void> {
      const card = await cardOf(event.subjectId);
      if (!card) return;
      const channels = await broadcast(card);
      if (event.action !== "request.break_glass") return;
      const { request } = card;
      for (const user of targets.get(request.targetId)?.approvers.users ?? []) {
        if (samePrincipalId(user, request.requesterId)) continue;
        await dm(user, {
          kind: "break-glass",
          requestId: request.id,
          targetId: request.targetId,
          requesterId: request.requesterId,
          reason: request.reason,
          ticket: request.ticket,
          durationSeconds: request.durationSeconds,
          channels,
        });
      }
    },
  };
}
