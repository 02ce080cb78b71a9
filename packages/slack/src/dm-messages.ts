import type { KnownBlock } from "@slack/types";
import { SLACK_IDS } from "./slack-ids.js";
import { escapeMrkdwn as esc, humanDuration, slackTime, truncate, userText } from "./slack-text.js";

/**
 * Direct messages to the person who asked, and alerts. None of them ever carries a credential. The
 * top-level `text` (the notification, and what screen readers say) is mrkdwn too: every piece of user
 * or identity text in it is escaped exactly like in the blocks.
 */

type Message = { text: string; blocks: KnownBlock[] };

const plain = (text: string, mrkdwn: string): Message => ({
  text: truncate(text, 3000),
  blocks: [{ type: "section", text: { type: "mrkdwn", text: mrkdwn } }],
});

export function renderDecisionDm(input: {
  targetId: string;
  outcome: "approved" | "denied";
  by: readonly string[];
  comment: string | null;
}): Message {
  const target = userText(input.targetId, 100);
  const by = input.by.map((b) => userText(b, 200)).join(", ");
  return input.outcome === "approved"
    ? plain(
        `Your request for ${esc(input.targetId)} was approved by ${esc(input.by.join(", "))}.`,
        `:white_check_mark: Your request for *${target}* was approved by ${by}. Issuing your access now.`,
      )
    : plain(
        `Your request for ${esc(input.targetId)} was denied by ${esc(input.by.join(", "))}.`,
        `:no_entry: Your request for *${target}* was denied by ${by}${
          input.comment ? `: ${userText(input.comment, 500)}` : "."
        }`,
      );
}

/** A request nobody decided in time, escalated to this approver: who asks, since when, where to decide. */
export function renderEscalatedDm(input: {
  requestId: string;
  targetId: string;
  requesterId: string;
  level: number;
  waitingSince: Date;
  channel: string | null;
}): Message {
  const target = userText(input.targetId, 100);
  const requester = userText(input.requesterId, 200);
  // A channel id is checked against /^[CG][A-Z0-9]+$/ when leasehold.yaml is read: safe in a mention.
  const where = input.channel
    ? `Approve or deny it in <#${input.channel}>, or from`
    : "Approve or deny it from";
  return {
    text: truncate(
      `Escalated to you: ${esc(input.requesterId)}'s request for ${esc(input.targetId)} has waited since ${input.waitingSince.toISOString()}.`,
      3000,
    ),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:arrow_double_up: *Escalated to you* (level ${input.level}): ${requester}'s request for *${target}* has waited for a decision since ${slackTime(input.waitingSince)}.\n${where} your terminal:\n\`\`\`leasehold approve ${input.requestId}\`\`\``,
        },
      },
    ],
  };
}

/** Access is live: until when, and how to fetch the credentials (never the credentials themselves). */
export function renderGrantedDm(input: {
  grantId: string;
  targetId: string;
  expiresAt: Date;
  extended?: boolean;
}): Message {
  const target = userText(input.targetId, 100);
  const verb = input.extended ? "extended" : "granted";
  return {
    text: `Access to ${esc(input.targetId)} ${verb} until ${input.expiresAt.toISOString()}. Run: leasehold creds ${esc(input.grantId)}`,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:key: Access to *${target}* ${verb} until ${slackTime(input.expiresAt)}.${
            input.extended ? " Fetch the credentials again: the new ones last until then." : ""
          }\nFetch the credentials from your terminal:\n\`\`\`leasehold creds ${input.grantId}\`\`\``,
        },
      },
    ],
  };
}

/** Shortly before the deadline: extend (when policy leaves room) or give it back now. */
export function renderReminderDm(input: {
  grantId: string;
  targetId: string;
  expiresAt: Date;
  /** How much the Extend button adds; 0 hides it. */
  extendBySeconds: number;
}): Message {
  const target = userText(input.targetId, 100);
  return {
    text: `Your access to ${esc(input.targetId)} ends at ${input.expiresAt.toISOString()}.`,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:alarm_clock: Your access to *${target}* ends ${slackTime(input.expiresAt)}.`,
        },
      },
      {
        type: "actions",
        block_id: "grant",
        elements: [
          ...(input.extendBySeconds > 0
            ? [
                {
                  type: "button" as const,
                  action_id: SLACK_IDS.actions.extend,
                  text: {
                    type: "plain_text" as const,
                    text: `Extend by ${humanDuration(input.extendBySeconds)}`,
                  },
                  value: JSON.stringify({ grantId: input.grantId, extendBySeconds: input.extendBySeconds }),
                },
              ]
            : []),
          {
            type: "button",
            action_id: SLACK_IDS.actions.revoke,
            text: { type: "plain_text", text: "Revoke now" },
            style: "danger",
            value: input.grantId,
          },
        ],
      },
    ],
  };
}

export function renderEndedDm(input: {
  targetId: string;
  how: "expired" | "revoked" | "failed";
  detail: string | null;
}): Message {
  const target = userText(input.targetId, 100);
  const lines = {
    expired: [
      `Your access to ${esc(input.targetId)} has expired.`,
      `:lock: Your access to *${target}* has expired.`,
    ],
    revoked: [
      `Your access to ${esc(input.targetId)} was revoked.`,
      `:lock: Your access to *${target}* was revoked.`,
    ],
    failed: [
      `Your access to ${esc(input.targetId)} could not be issued.`,
      `:warning: Your access to *${target}* could not be issued${input.detail ? `: ${userText(input.detail, 500)}` : "."}`,
    ],
  } as const;
  const [text, mrkdwn] = lines[input.how];
  return plain(text, mrkdwn);
}

/** To the alerts channel: a rotation gave up. The current secret still works (it was left or put back). */
export function renderRotationFailedAlert(input: {
  rotationId: string;
  step: string;
  error: string;
  rolledBack: boolean;
}): Message {
  return plain(
    `Rotation ${esc(input.rotationId)} failed at ${esc(input.step)}.`,
    `:warning: *Rotation ${userText(input.rotationId, 100)} failed* at step \`${userText(input.step, 20)}\`${
      input.rolledBack ? " (the database password was put back)" : ""
    }. The current secret still works.\n> ${userText(input.error, 500)}`,
  );
}

/** To the alerts channel: no run of a rotation succeeded for two periods of its schedule. */
export function renderRotationOverdueAlert(input: {
  rotationId: string;
  since: Date;
  everSucceeded: boolean;
  periodSeconds: number;
}): Message {
  const since = input.everSucceeded ? "last succeeded" : "has not succeeded since";
  return plain(
    `Rotation ${esc(input.rotationId)} is overdue: it ${since} ${input.since.toISOString()}.`,
    `:hourglass: *Rotation ${userText(input.rotationId, 100)} is overdue*: it ${since} ${slackTime(
      input.since,
    )}, more than two periods of its schedule (${humanDuration(input.periodSeconds)} each) ago. See \`leasehold rotations runs ${userText(
      input.rotationId,
      100,
    )}\`.`,
  );
}

/** To the approvers' channel (and the alerts channel): a revocation keeps failing. */
export function renderRevocationDebtAlert(input: {
  grantId: string;
  targetId: string;
  principalId: string;
  error: string;
}): Message {
  return plain(
    `Revocation debt: grant ${esc(input.grantId)} for ${esc(input.principalId)} on ${esc(input.targetId)} could not be ended.`,
    `:rotating_light: *Revocation debt*: the grant \`${input.grantId}\` of ${userText(input.principalId, 200)} on *${userText(
      input.targetId,
      100,
    )}* could not be ended and may still work. Leasehold keeps retrying.\n> ${userText(input.error, 500)}`,
  );
}

/** To the alerts channel (and the role's targets' channels): a role's revocation budget ran out. */
export function renderRevocationCutoffAlert(input: {
  role: string;
  cutoffAt: Date;
  revocations: number;
  kept: number;
  ended: number;
}): Message {
  const at = input.cutoffAt.toISOString();
  const ended =
    input.ended > 0
      ? ` ${input.ended} live grant${input.ended === 1 ? "" : "s"} did not fit the exception list and ${input.ended === 1 ? "was" : "were"} ended.`
      : "";
  return plain(
    `Revocation budget of ${esc(input.role)} exhausted: sessions issued before ${at} are refused, except ${input.kept} live grants.`,
    `:rotating_light: *Revocation budget exhausted* on \`${userText(input.role, 300)}\`: its ${input.revocations} revocations no longer fit the role's inline policy budget, so every session issued before ${at} is refused except those of its ${input.kept} live grants (sessions on this role that Leasehold did not issue included).${ended} Look for who revokes so much on this role.`,
  );
}

/** A request approved by policy, for the alerts channel: never silently. */
export function renderAutoApprovedAlert(input: {
  requestId: string;
  targetId: string;
  requesterId: string;
  policies: readonly string[];
  reason: string;
}): Message {
  const policies = input.policies.map((p) => `\`${userText(p, 128)}\``).join(", ");
  return plain(
    `${esc(input.requesterId)} was granted ${esc(input.targetId)} by policy ${esc(input.policies.join(", "))}, without an approver.`,
    `:robot_face: *Approved by policy* ${policies}: ${esc(input.requesterId)} was granted \`${userText(input.targetId, 63)}\` without an approver (request ${esc(input.requestId)}). Reason: ${userText(input.reason, 500)}`,
  );
}

/**
 * To the target's approvers' channel (and the alerts channel): a person's requests for a target will
 * be approved without asking anyone during a window, so the approvers see who, when and why up front.
 */
export function renderPreApprovalAlert(input: {
  preApprovalId: string;
  targetId: string;
  principalId: string;
  approverId: string;
  startsAt: Date;
  endsAt: Date;
  reason: string;
}): Message {
  const who = userText(input.principalId, 200);
  const target = userText(input.targetId, 100);
  return plain(
    `${esc(input.approverId)} pre-approved ${esc(input.principalId)} for ${esc(input.targetId)} from ${input.startsAt.toISOString()} to ${input.endsAt.toISOString()}.`,
    `:calendar: *Pre-approval*: ${userText(input.approverId, 200)} pre-approved ${who} for *${target}* from ${slackTime(
      input.startsAt,
    )} to ${slackTime(input.endsAt)}. Their requests in this window are approved without asking (still rate-limited, and each one is posted here). Revoke it with \`leasehold preapprovals revoke ${input.preApprovalId}\`.\n> ${userText(input.reason, 500)}`,
  );
}
