import type { AccessRequest, Grant } from "@leasehold/domain";
import type { HomeView, KnownBlock } from "@slack/types";
import { SLACK_IDS } from "./slack-ids.js";
import { humanDuration, SLACK_LIMITS, slackTime, userText } from "./slack-text.js";

/** Items per list: three lists and their headers stay well inside a view's 100 blocks. */
const PER_LIST = 25;

export type HomeContent = {
  readonly activeGrants: readonly Grant[];
  readonly myPending: readonly AccessRequest[];
  readonly toReview: readonly AccessRequest[];
  readonly now: Date;
};

/** App Home: my active grants (time left, revoke), my pending requests, requests waiting for my review. */
export function renderAppHome(content: HomeContent): HomeView {
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: "Leasehold" } },
    {
      type: "actions",
      block_id: "home",
      elements: [
        {
          type: "button",
          action_id: SLACK_IDS.actions.openRequest,
          text: { type: "plain_text", text: "Request access" },
          style: "primary",
        },
      ],
    },
    { type: "header", text: { type: "plain_text", text: "My active access" } },
  ];
  if (content.activeGrants.length === 0) blocks.push(none("You hold no access right now."));
  for (const grant of content.activeGrants.slice(0, PER_LIST)) {
    const left = Math.max(0, Math.round(((grant.expiresAt?.getTime() ?? 0) - content.now.getTime()) / 1000));
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${userText(grant.targetId, 100)}*: ${humanDuration(left)} left (until ${
          grant.expiresAt ? slackTime(grant.expiresAt) : "?"
        })\n\`leasehold creds ${grant.id}\``,
      },
      accessory: {
        type: "button",
        action_id: SLACK_IDS.actions.revoke,
        text: { type: "plain_text", text: "Revoke" },
        style: "danger",
        value: grant.id,
      },
    });
  }

  blocks.push({ type: "header", text: { type: "plain_text", text: "My pending requests" } });
  if (content.myPending.length === 0) blocks.push(none("Nothing waiting."));
  for (const request of content.myPending.slice(0, PER_LIST)) {
    blocks.push(
      none(
        `*${userText(request.targetId, 100)}* for ${humanDuration(request.durationSeconds)}: ${userText(request.reason, 300)}`,
      ),
    );
  }

  blocks.push({ type: "header", text: { type: "plain_text", text: "Waiting for my review" } });
  if (content.toReview.length === 0) blocks.push(none("Nothing to review."));
  for (const request of content.toReview.slice(0, PER_LIST)) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${userText(request.requesterId, 200)}* asks for *${userText(request.targetId, 100)}* for ${humanDuration(
          request.durationSeconds,
        )}: ${userText(request.reason, 500)}`,
      },
      accessory: {
        type: "button",
        action_id: SLACK_IDS.actions.approve,
        text: { type: "plain_text", text: "Approve" },
        style: "primary",
        value: request.id,
      },
    });
  }
  return { type: "home", blocks: blocks.slice(0, SLACK_LIMITS.viewBlocks) };
}

const none = (text: string): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });
