import type { KnownBlock } from "@slack/types";
import { escapeMrkdwn as esc, slackTime, truncate, userText } from "./slack-text.js";

/**
 * To the alerts channel: an audit sink has failed for longer than the threshold. Its copy of the
 * trail (the SIEM's, the checkpoints it anchors) falls behind until someone fixes the receiver; the
 * export resumes by itself from where it stopped.
 */
export function renderAuditSinkFailingAlert(input: {
  sink: string;
  failingSince: Date;
  error: string;
  behindEvents: number;
}): { text: string; blocks: KnownBlock[] } {
  const text = `Audit sink ${esc(input.sink)} has been failing since ${input.failingSince.toISOString()}; ${input.behindEvents} events not delivered.`;
  return {
    text: truncate(text, 3000),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:warning: *Audit sink ${userText(input.sink, 100)} is failing* since ${slackTime(
            input.failingSince,
          )}: ${input.behindEvents} events are not delivered yet. Grants are not affected; the sink resumes where it stopped once it accepts again.\n> ${userText(input.error, 500)}`,
        },
      },
    ],
  };
}
