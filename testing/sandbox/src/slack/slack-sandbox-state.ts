import { createHash } from "node:crypto";
import { SLACK_LIMITS } from "./slack-limits.js";
import {
  SLACK_SANDBOX_IDS,
  type SlackCall,
  type SlackEphemeralRecord,
  type SlackFault,
  type SlackMessageVersion,
  type SlackSandboxOptions,
  type SlackSandboxUser,
  type SlackViewRecord,
} from "./slack-sandbox-types.js";

/** The Slack stand-in's memory: the configured workspace, what was posted, and the records. */

export type ChannelState = {
  id: string;
  name: string;
  kind: "channel" | "dm";
  botIsMember: boolean;
  memberIds: ReadonlySet<string>;
};

/** A message record with the fields chat.update changes writable. */
export type StoredMessage = {
  ts: string;
  text: string;
  blocks: readonly unknown[];
  threadTs?: string;
  updates: number;
  history: SlackMessageVersion[];
};

export type StoredView = SlackViewRecord & { externalId?: string };

export type Trigger = { issuedAtMs: number; userId?: string; used: boolean };

export type SlackState = {
  clock: () => Date;
  botToken: string;
  botUserId: string;
  teamId: string;
  rateLimitPerChannelPerSecond: number;
  users: ReadonlyMap<string, SlackSandboxUser>;
  channels: ReadonlyMap<string, ChannelState>;
  channelsByName: ReadonlyMap<string, ChannelState>;
  /** user id → DM channel, and the DM channels by id (also in `channels`). */
  dmOfUser: ReadonlyMap<string, ChannelState>;
  messages: Map<string, StoredMessage[]>;
  ephemerals: SlackEphemeralRecord[];
  views: StoredView[];
  triggers: Map<string, Trigger>;
  /** Accepted chat.postMessage times (ms, sandbox clock) per channel id, for the rate limit. */
  postTimes: Map<string, number[]>;
  calls: SlackCall[];
  payloads: string[];
  faults: SlackFault[];
  /** Last ts handed out, in microseconds; ts only ever grows, even across reset(). */
  lastTsMicros: number;
  sequence: number;
};

/** `D` + 10 characters derived from team and user, so a user's DM id is the same in every run. */
export const dmChannelId = (teamId: string, userId: string): string =>
  `D${createHash("sha256").update(`${teamId}/${userId}`).digest("hex").slice(0, 10).toUpperCase()}`;

export function createSlackState(options: SlackSandboxOptions): SlackState {
  const botUserId = options.botUserId ?? SLACK_SANDBOX_IDS.botUserId;
  const teamId = options.teamId ?? SLACK_SANDBOX_IDS.teamId;
  const users = new Map<string, SlackSandboxUser>();
  for (const user of options.users) {
    if (users.has(user.id)) throw new Error(`Slack sandbox user ids must be unique: ${user.id}`);
    users.set(user.id, user);
  }
  // The bot is a workspace member too (users.info on it works in Slack).
  if (!users.has(botUserId)) {
    users.set(botUserId, { id: botUserId, name: SLACK_SANDBOX_IDS.botName, isBot: true });
  }
  const activeUserIds = options.users.filter((user) => user.deleted !== true).map((user) => user.id);

  const channels = new Map<string, ChannelState>();
  const channelsByName = new Map<string, ChannelState>();
  for (const channel of options.channels) {
    if (channels.has(channel.id)) throw new Error(`Slack sandbox channel ids must be unique: ${channel.id}`);
    const state: ChannelState = {
      id: channel.id,
      name: channel.name,
      kind: "channel",
      botIsMember: channel.botIsMember ?? true,
      memberIds: new Set(channel.memberIds ?? activeUserIds),
    };
    channels.set(channel.id, state);
    channelsByName.set(channel.name, state);
  }
  const dmOfUser = new Map<string, ChannelState>();
  for (const user of users.values()) {
    if (user.id === botUserId) continue;
    const dm: ChannelState = {
      id: dmChannelId(teamId, user.id),
      name: user.id,
      kind: "dm",
      botIsMember: true,
      memberIds: new Set([user.id]),
    };
    dmOfUser.set(user.id, dm);
    channels.set(dm.id, dm);
  }
  const rate = options.rateLimitPerChannelPerSecond ?? SLACK_LIMITS.postMessagesPerChannelPerSecond;
  if (!Number.isInteger(rate) || rate < 0) {
    throw new Error("rateLimitPerChannelPerSecond must be a whole number ≥ 0 (0 disables the limit)");
  }
  return {
    clock: options.clock ?? (() => new Date()),
    botToken: options.botToken,
    botUserId,
    teamId,
    rateLimitPerChannelPerSecond: rate,
    users,
    channels,
    channelsByName,
    dmOfUser,
    ...emptyRecords(),
    lastTsMicros: 0,
    sequence: 0,
  };
}

/** Everything reset() forgets. */
export const emptyRecords = () => ({
  messages: new Map<string, StoredMessage[]>(),
  ephemerals: [] as SlackEphemeralRecord[],
  views: [] as StoredView[],
  triggers: new Map<string, Trigger>(),
  postTimes: new Map<string, number[]>(),
  calls: [] as SlackCall[],
  payloads: [] as string[],
  faults: [] as SlackFault[],
});

/**
 * A new message ts: `<epoch seconds>.<6-digit microseconds>` from the sandbox clock, bumped past the
 * last one so that ts values are unique and strictly increasing even with a frozen clock.
 */
export function nextTs(state: SlackState, now: Date): string {
  const micros = Math.max(now.getTime() * 1000, state.lastTsMicros + 100);
  state.lastTsMicros = micros;
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros - seconds * 1_000_000).padStart(6, "0")}`;
}

/** A fresh number for ids that only need to be unique within the sandbox. */
export function nextSequence(state: SlackState): number {
  state.sequence += 1;
  return state.sequence;
}

/** The records of a channel, created on first use. */
export function channelMessages(state: SlackState, channelId: string): StoredMessage[] {
  let messages = state.messages.get(channelId);
  if (messages === undefined) {
    messages = [];
    state.messages.set(channelId, messages);
  }
  return messages;
}

/**
 * What a chat.postMessage `channel` names: a channel id, a DM id, a user id (the user's DM), or a
 * channel name with or without `#`.
 */
export function resolvePostChannel(state: SlackState, channel: string): ChannelState | undefined {
  return (
    state.channels.get(channel) ??
    state.dmOfUser.get(channel) ??
    state.channelsByName.get(channel.startsWith("#") ? channel.slice(1) : channel)
  );
}
