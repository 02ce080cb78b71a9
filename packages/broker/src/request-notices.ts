import { type RequestCard, tallyReviews, UpstreamError } from "@leasehold/domain";
import { createBreakGlassNotices } from "./break-glass-notices.js";
import { createEscalationNotices } from "./escalation-notices.js";
import { directMessageOrSkip, type EventOf, type NoticeDeps } from "./notice-deps.js";

/**
 * A request's card in its approvers' channel (and in each channel it was escalated to), the decision
 * DM to its requester, the escalation DMs to the approvers of the level it moved to, and the
 * broadcast of a break-glass (break-glass-notices.ts).
 */
export function createRequestNotices(deps: NoticeDeps) {
  const { store, targets, messenger, clock, alertsChannel } = deps;
  const dm = directMessageOrSkip(deps);

  const requestCard = async (requestId: string): Promise<RequestCard | undefined> => {
    const [request, reviews] = await store.read((r) =>
      Promise.all([r.requests.findById(requestId), r.requests.listReviews(requestId)]),
    );
    if (!request) return undefined;
    const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
    const target = targets.get(request.targetId);
    const offered = new Map(target?.scopes.map((scope) => [scope.name, scope.description]));
    return {
      request,
      targetDescription: target?.description ?? "",
      // A scope withdrawn from leasehold.yaml since keeps its name here, without a description.
      scopes: request.scopes.map((name) => ({ name, description: offered.get(name) ?? "" })),
      approvals: tally.approvers,
      needed: tally.needed,
      deniedBy: tally.deniedBy,
      denyComment: reviews.find((r) => r.decision === "deny")?.comment ?? null,
    };
  };

  /**
   * Posts the request to its target's approvers' channel once, or rewrites the message in place, and
   * rewrites every escalation post of it too, so no channel keeps buttons for a decided request.
   */
  const showRequest = async (requestId: string, mustExist: boolean) => {
    const card = await requestCard(requestId);
    if (!card) return;
    const [existing, escalations] = await store.read((r) =>
      Promise.all([
        r.notifications.findRequestMessage(requestId),
        r.notifications.listEscalationMessages(requestId),
      ]),
    );
    for (const message of escalations) await messenger.updateRequestCard(message, card);
    const channel = targets.get(card.request.targetId)?.slackChannel;
    if (!channel) return;
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

  const escalations = createEscalationNotices(deps, requestCard);
  const breakGlass = createBreakGlassNotices(deps);

  const onRequestEvent = async (event: EventOf<"request">) => {
    // A break-glass has no approval card: its own broadcast, which every one of them gets.
    if (event.action === "request.break_glass" || event.action === "request.break_glass_reviewed") {
      await breakGlass.onEvent(event);
      return;
    }
    await showRequest(event.subjectId, event.action !== "request.created");
    if (event.action === "request.escalated") {
      await escalations.escalate(event.subjectId, event.data.toLevel);
      return;
    }
    if (event.action !== "request.approved" && event.action !== "request.denied") return;
    const card = await requestCard(event.subjectId);
    if (!card) return;
    const approved = event.action === "request.approved";
    // Approved by policy: the card in the approvers' channel shows it, and so does the alerts channel.
    const byPolicy = event.action === "request.approved" && event.data.policies.length > 0;
    if (byPolicy && alertsChannel) {
      await messenger.alert(alertsChannel, {
        kind: "auto-approved",
        requestId: card.request.id,
        targetId: card.request.targetId,
        requesterId: card.request.requesterId,
        policies: event.data.policies,
        reason: card.request.reason,
      });
    }
    await dm(card.request.requesterId, {
      kind: "decision",
      targetId: card.request.targetId,
      outcome: approved ? "approved" : "denied",
      by: byPolicy ? [event.actor] : approved ? card.approvals : [card.deniedBy ?? event.actor],
      comment: card.denyComment,
    });
  };

  return { onRequestEvent };
}
