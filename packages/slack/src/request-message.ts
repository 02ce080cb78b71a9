import type { RequestCard } from "@leasehold/domain";
import type { KnownBlock } from "@slack/types";
import { SLACK_IDS } from "./slack-ids.js";
import { humanDuration, SLACK_LIMITS, slackTime, truncate, userText } from "./slack-text.js";

/** What the approvers' channel message shows about one request (defined with the other notices in domain). */
export type { RequestCard };

/** One line saying where the request stands. */
function status(card: RequestCard): string {
  const { request } = card;
  const approvedBy = card.approvals.map((a) => userText(a, 200)).join(", ");
  switch (request.state) {
    case "pending":
      return `:hourglass_flowing_sand: Waiting for ${card.needed} more approval${card.needed === 1 ? "" : "s"}${
        approvedBy ? ` (approved so far by ${approvedBy})` : ""
      }. Open until ${slackTime(request.pendingUntil)}.`;
    case "approved":
      return `:white_check_mark: Approved by ${approvedBy}.`;
    case "denied":
      return `:no_entry: Denied by ${userText(card.deniedBy ?? "an approver", 200)}${
        card.denyComment ? `: ${userText(card.denyComment, 500)}` : "."
      }`;
    case "cancelled":
      return ":heavy_multiplication_x: Cancelled by the requester.";
    case "expired":
      return ":zzz: Expired without a decision.";
  }
}

/** Exactly which scopes were asked, each with what it is for; the approvers decide on these. */
function scopesSection(card: RequestCard): KnownBlock {
  const described = new Map(card.scopes?.map((scope) => [scope.name, scope.description]));
  const lines = card.request.scopes.map((name) => {
    const description = described.get(name);
    return `• \`${userText(name, 63)}\`${description ? ` ${userText(description, 300)}` : ""}`;
  });
  return {
    type: "section",
    block_id: "scopes",
    text: { type: "mrkdwn", text: truncate(`*Scopes asked*\n${lines.join("\n")}`, SLACK_LIMITS.sectionText) },
  };
}

/**
 * The request as posted to the target's approvers' channel, and as every decision rewrites it in
 * place. Buttons appear only while it is pending; their value is the request id.
 */
export function renderRequestMessage(card: RequestCard): { text: string; blocks: KnownBlock[] } {
  const { request } = card;
  const requester = userText(request.requesterId, 200);
  const blocks: KnownBlock[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        // plain_text, but whether Slack renders <!channel> there is unconfirmed: escaped all the same.
        text: userText(`Access request: ${request.targetId}`, SLACK_LIMITS.headerText),
      },
    },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Requester*\n${requester}` },
        { type: "mrkdwn", text: `*Target*\n${userText(request.targetId, 100)}` },
        { type: "mrkdwn", text: `*Duration*\n${humanDuration(request.durationSeconds)}` },
        { type: "mrkdwn", text: `*Ticket*\n${request.ticket ? userText(request.ticket, 200) : "none"}` },
        { type: "mrkdwn", text: `*Approvals*\n${card.approvals.length} of ${request.requiredApprovals}` },
      ],
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: `*Reason*\n${userText(request.reason, SLACK_LIMITS.sectionText - 20)}` },
    },
  ];
  if (request.scopes.length > 0) blocks.push(scopesSection(card));
  if (card.targetDescription) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: userText(card.targetDescription, 500) }],
    });
  }
  blocks.push({ type: "section", block_id: "status", text: { type: "mrkdwn", text: status(card) } });
  if (request.state === "pending" && request.escalationLevel > 0) {
    blocks.push({
      type: "context",
      block_id: "escalation",
      elements: [
        {
          type: "mrkdwn",
          text: `:arrow_double_up: Escalated to level ${request.escalationLevel}: nobody decided since it was asked ${slackTime(request.createdAt)}.`,
        },
      ],
    });
  }
  if (request.state === "pending") {
    blocks.push({
      type: "actions",
      block_id: "decision",
      elements: [
        {
          type: "button",
          action_id: SLACK_IDS.actions.approve,
          text: { type: "plain_text", text: "Approve" },
          style: "primary",
          value: request.id,
        },
        {
          type: "button",
          action_id: SLACK_IDS.actions.deny,
          text: { type: "plain_text", text: "Deny" },
          style: "danger",
          value: request.id,
        },
      ],
    });
  }
  // The notification text is mrkdwn too: escaped like the blocks, and cut without splitting an entity.
  const text = userText(
    `${request.requesterId} asks for ${request.targetId}${
      request.scopes.length > 0 ? ` (${request.scopes.join(", ")})` : ""
    } for ${humanDuration(request.durationSeconds)}: ${request.state}`,
    SLACK_LIMITS.messageText,
  );
  return { text, blocks };
}
