/**
 * Local mode only: what the Slack bot sent to the Slack stand-in, so the console can show a newcomer
 * the Slack side of the walkthrough. A deployment has no such source; the procedure then answers
 * `available: false`.
 */
export type LocalSlackMessage = {
  readonly channelId: string;
  /** The channel's name, or the person's for a direct message. */
  readonly channelName: string | null;
  readonly isDm: boolean;
  readonly ts: string;
  readonly text: string;
  readonly blocks: readonly unknown[];
};

export type LocalSlackOutbox = { messages(): Promise<readonly LocalSlackMessage[]> };

/** The most messages one answer carries, newest kept. */
export const LOCAL_SLACK_MAX_MESSAGES = 200;
