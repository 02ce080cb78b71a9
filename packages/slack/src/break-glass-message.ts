import type { BreakGlassCard } from "@leasehold/domain";
import type { KnownBlock } from "@slack/types";
import { SLACK_IDS } from "./slack-ids.js";
import {
  escapeMrkdwn as esc,
  humanDuration,
  SLACK_LIMITS,
  slackTime,
  truncate,
  userText,
} from "./slack-text.js";

type Message = { text: string; blocks: KnownBlock[] };

/** One line saying where the review stands. */
function reviewStatus(card: BreakGlassCard): string {
  const { review } = card;
  if (!review)
    return ":hourglass_flowing_sand: *Review needed*: an approver of this target must mark it justified or unjustified.";
  const by = userText(review.reviewerId, 200);
  const comment = review.comment ? `: ${userText(review.comment, 500)}` : ".";
  return review.verdict === "justified"
    ? `:white_check_mark: Marked *justified* by ${by} ${slackTime(review.reviewedAt)}${comment}`
    : `:x: Marked *unjustified* by ${by} ${slackTime(review.reviewedAt)}${comment}`;
}

/**
 * The broadcast of a break-glass, posted to the alerts channel and the target's approvers' channel,
 * and rewritten in place by its review. The review buttons show until it is reviewed; their value is
 * the request id.
 */
export function renderBreakGlassMessage(card: BreakGlassCard): Message {
  const { request } = card;
  const blocks: KnownBlock[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: userText(`Break-glass: ${request.targetId}`, SLACK_LIMITS.headerText),
      },
    },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Who*\n${userText(request.requesterId, 200)}` },
        { type: "mrkdwn", text: `*Target*\n${userText(request.targetId, 100)}` },
        { type: "mrkdwn", text: `*Duration*\n${humanDuration(request.durationSeconds)}` },
        { type: "mrkdwn", text: `*Ticket*\n${request.ticket ? userText(request.ticket, 200) : "none"}` },
        { type: "mrkdwn", text: `*When*\n${slackTime(request.createdAt)}` },
      ],
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: `*Reason*\n${userText(request.reason, SLACK_LIMITS.sectionText - 20)}` },
    },
  ];
  if (card.targetDescription) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: userText(card.targetDescription, 500) }],
    });
  }
  blocks.push({ type: "section", block_id: "review", text: { type: "mrkdwn", text: reviewStatus(card) } });
  if (!card.review) {
    blocks.push({
      type: "actions",
      block_id: "break_glass_review",
      elements: [
        {
          type: "button",
          action_id: SLACK_IDS.actions.breakGlassJustified,
          text: { type: "plain_text", text: "Mark justified" },
          style: "primary",
          value: request.id,
        },
        {
          type: "button",
          action_id: SLACK_IDS.actions.breakGlassUnjustified,
          text: { type: "plain_text", text: "Mark unjustified" },
          style: "danger",
          value: request.id,
        },
      ],
    });
  }
  const verdict = card.review ? `marked ${card.review.verdict}` : "review needed";
  const text = userText(
    `BREAK-GLASS: ${request.requesterId} activated ${request.targetId} for ${humanDuration(request.durationSeconds)} without approval (${verdict}): ${request.reason}`,
    SLACK_LIMITS.messageText,
  );
  return { text, blocks };
}

/** To each approver a target names: someone broke glass, why, and where to review it. */
export function renderBreakGlassDm(input: {
  requestId: string;
  targetId: string;
  requesterId: string;
  reason: string;
  ticket: string | null;
  durationSeconds: number;
  channels: readonly string[];
}): Message {
  // Channel ids are checked against /^[CG][A-Z0-9]+$/ when leasehold.yaml is read: safe in a mention.
  const where =
    input.channels.length > 0
      ? `Mark it justified or unjustified in ${input.channels.map((c) => `<#${c}>`).join(" or ")}, or from`
      : "Mark it justified or unjustified from";
  const ticket = input.ticket ? ` (ticket ${userText(input.ticket, 200)})` : "";
  return {
    text: truncate(
      `Break-glass: ${esc(input.requesterId)} activated ${esc(input.targetId)} for ${humanDuration(input.durationSeconds)} without approval; review needed.`,
      3000,
    ),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: truncate(
            `:rotating_light: *Break-glass*: ${userText(input.requesterId, 200)} activated *${userText(input.targetId, 100)}* for ${humanDuration(input.durationSeconds)} without approval${ticket}.\n*Reason*: ${userText(input.reason, 1500)}\n${where} your terminal:\n\`\`\`leasehold break-glass review ${input.requestId} --justified\`\`\``,
            SLACK_LIMITS.sectionText,
          ),
        },
      },
    ],
  };
}
