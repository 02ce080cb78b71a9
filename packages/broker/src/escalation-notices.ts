import { escalationLevelAt, type RequestCard, samePrincipalId } from "@leasehold/domain";
import { directMessageOrSkip, type NoticeDeps } from "./notice-deps.js";

/** What an escalation notice reads of a request: its card as the approvers' channel shows it. */
type CardOf = (requestId: string) => Promise<RequestCard | undefined>;

/** The notices of a `request.escalated` event (see request-escalation-service.ts). */
export function createEscalationNotices(deps: NoticeDeps, requestCard: CardOf) {
  const { store, targets, messenger, clock } = deps;
  const dm = directMessageOrSkip(deps);

  return {
    /**
     * Re-posts a still-pending request to the level's channel (the target's approvers' channel when
     * the level names none; once per level, remembered so later events edit it in place) and messages
     * each approver the level names by user, never the requester. A request decided before this
     * delivery pages nobody. Delivery is at least once: a retry after a failed DM may repeat the DMs
     * sent before it, never the post.
     */
    async escalate(requestId: string, level: number): Promise<void> {
      const card = await requestCard(requestId);
      const target = card && targets.get(card.request.targetId);
      if (!card || !target || card.request.state !== "pending") return;
      const escalation = escalationLevelAt(target, level);
      const channel = escalation?.slackChannel ?? target.slackChannel ?? null;
      const posted = await store.read((r) => r.notifications.listEscalationMessages(requestId));
      if (channel && !posted.some((m) => m.level === level)) {
        const message = await messenger.postRequestCard(channel, card);
        await store.transaction((r) =>
          r.notifications.saveEscalationMessage(
            { requestId, level, channel: message.channel, ts: message.ts },
            clock(),
          ),
        );
      }
      const { request } = card;
      for (const user of escalation?.approvers.users ?? []) {
        if (samePrincipalId(user, request.requesterId)) continue;
        await dm(user, {
          kind: "escalated",
          requestId,
          targetId: request.targetId,
          requesterId: request.requesterId,
          level,
          waitingSince: request.createdAt,
          channel,
        });
      }
    },
  };
}
