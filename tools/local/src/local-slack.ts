import type { LocalSlackMessage, LocalSlackOutbox } from "@leasehold/api/local-slack";
import type { SlackSandbox } from "@leasehold/sandbox";
import { LOCAL_PEOPLE, LOCAL_SLACK } from "./local-policy.js";

/** The approvers' channel and each seeded person's DMs, as the Slack stand-in keeps them, oldest first. */
export function localSlackOutbox(slack: SlackSandbox): LocalSlackOutbox {
  return {
    async messages() {
      const channel: LocalSlackMessage[] = slack.messages(LOCAL_SLACK.channel).map((m) => ({
        channelId: LOCAL_SLACK.channel,
        channelName: "local-approvals",
        isDm: false,
        ts: m.ts,
        text: m.text,
        blocks: m.blocks,
      }));
      const direct = Object.entries(LOCAL_PEOPLE).flatMap(([name, person]) => {
        const dm = slack.dmChannelOf(person.slackId);
        return slack.messages(dm).map((m) => ({
          channelId: dm,
          channelName: name,
          isDm: true,
          ts: m.ts,
          text: m.text,
          blocks: m.blocks,
        }));
      });
      return [...channel, ...direct].sort((a, b) => Number(a.ts) - Number(b.ts));
    },
  };
}
