import {
  type Args,
  type Handler,
  refusalWithMessages,
  SlackRateLimited,
  SlackRefusal,
  stringArg,
} from "./slack-api-args.js";
import { openView, viewsPublish, viewsUpdate } from "./slack-api-views.js";
import { blocksProblems, truncateMessageText } from "./slack-limits.js";
import {
  type ChannelState,
  channelMessages,
  nextTs,
  resolvePostChannel,
  type SlackState,
} from "./slack-sandbox-state.js";
import { SLACK_SANDBOX_IDS, type SlackSandboxUser } from "./slack-sandbox-types.js";

/**
 * The Web API methods the Slack stand-in serves, as functions from (state, args, now) to the fields
 * of an `ok: true` answer. A refusal is thrown as SlackRefusal (HTTP 200 `{ok: false, error}`) or
 * SlackRateLimited (HTTP 429).
 */

/** The message content of a chat.* call: text (truncated past 40,000 characters) and validated blocks. */
function messageContent(args: Args): { text: string | undefined; blocks: readonly unknown[] | undefined } {
  const blocks = args.blocks;
  if (blocks !== undefined && !Array.isArray(blocks)) {
    // A `blocks` string that is not JSON stays a string after decoding; JSON that is not an array fails here too.
    throw new SlackRefusal("invalid_blocks_format");
  }
  if (blocks !== undefined) {
    const problems = blocksProblems(blocks, "message", "/blocks");
    if (problems.length > 0) throw refusalWithMessages("invalid_blocks", problems, true);
  }
  const text = stringArg(args, "text");
  return { text: text === undefined ? undefined : truncateMessageText(text), blocks };
}

const hasAttachments = (args: Args) => Array.isArray(args.attachments) && args.attachments.length > 0;

function postable(state: SlackState, channelArg: string | undefined): ChannelState {
  const channel = channelArg === undefined ? undefined : resolvePostChannel(state, channelArg);
  if (channel === undefined) throw new SlackRefusal("channel_not_found");
  if (!channel.botIsMember) throw new SlackRefusal("not_in_channel");
  return channel;
}

/** Slack's documented ~1 message per second per channel, over a sliding one-second window. */
function enforcePostRate(state: SlackState, channelId: string, nowMs: number): void {
  const limit = state.rateLimitPerChannelPerSecond;
  if (limit === 0) return;
  const recent = (state.postTimes.get(channelId) ?? []).filter((at) => at > nowMs - 1000);
  state.postTimes.set(channelId, recent);
  const oldest = recent[0];
  if (recent.length >= limit && oldest !== undefined) {
    throw new SlackRateLimited(Math.max(1, Math.ceil((oldest + 1000 - nowMs) / 1000)));
  }
}

function botMessage(
  state: SlackState,
  ts: string,
  text: string,
  blocks: readonly unknown[],
  threadTs?: string,
) {
  return {
    type: "message",
    subtype: "bot_message",
    text,
    user: state.botUserId,
    bot_id: SLACK_SANDBOX_IDS.botId,
    app_id: SLACK_SANDBOX_IDS.appId,
    team: state.teamId,
    ts,
    ...(blocks.length > 0 ? { blocks } : {}),
    ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
  };
}

const postMessage: Handler = ({ state, args, now }) => {
  const channel = postable(state, stringArg(args, "channel"));
  enforcePostRate(state, channel.id, now.getTime());
  const { text, blocks } = messageContent(args);
  if ((text === undefined || text === "") && (blocks ?? []).length === 0 && !hasAttachments(args)) {
    throw new SlackRefusal("no_text");
  }
  const ts = nextTs(state, now);
  const threadTs = stringArg(args, "thread_ts");
  channelMessages(state, channel.id).push({
    ts,
    text: text ?? "",
    blocks: blocks ?? [],
    ...(threadTs === undefined ? {} : { threadTs }),
    updates: 0,
    history: [],
  });
  state.postTimes.set(channel.id, [...(state.postTimes.get(channel.id) ?? []), now.getTime()]);
  return { channel: channel.id, ts, message: botMessage(state, ts, text ?? "", blocks ?? [], threadTs) };
};

/**
 * chat.update takes the id of the conversation the message is in: a channel id or a DM id (`D…`), not
 * a user id or a channel name. Text and blocks left out keep their previous value, as in Slack.
 */
const updateMessage: Handler = ({ state, args, now }) => {
  const channelArg = stringArg(args, "channel");
  const channel = channelArg === undefined ? undefined : state.channels.get(channelArg);
  if (channel === undefined) throw new SlackRefusal("channel_not_found");
  const ts = stringArg(args, "ts");
  const message = ts === undefined ? undefined : state.messages.get(channel.id)?.find((m) => m.ts === ts);
  if (message === undefined) throw new SlackRefusal("message_not_found");
  const { text, blocks } = messageContent(args);
  if (text === undefined && blocks === undefined && !hasAttachments(args)) throw new SlackRefusal("no_text");
  message.history.push({ text: message.text, blocks: message.blocks, replacedAt: now });
  if (text !== undefined) message.text = text;
  if (blocks !== undefined) message.blocks = blocks;
  message.updates += 1;
  return {
    channel: channel.id,
    ts: message.ts,
    text: message.text,
    message: botMessage(state, message.ts, message.text, message.blocks, message.threadTs),
  };
};

const postEphemeral: Handler = ({ state, args, now }) => {
  const channel = postable(state, stringArg(args, "channel"));
  const user = stringArg(args, "user");
  if (user === undefined || !channel.memberIds.has(user)) throw new SlackRefusal("user_not_in_channel");
  const { text, blocks } = messageContent(args);
  if ((text === undefined || text === "") && (blocks ?? []).length === 0 && !hasAttachments(args)) {
    throw new SlackRefusal("no_text");
  }
  const messageTs = nextTs(state, now);
  state.ephemerals.push({ channel: channel.id, user, messageTs, text: text ?? "", blocks: blocks ?? [] });
  return { message_ts: messageTs };
};

function userObject(state: SlackState, user: SlackSandboxUser) {
  return {
    id: user.id,
    team_id: state.teamId,
    name: user.name,
    deleted: user.deleted ?? false,
    real_name: user.name,
    is_bot: user.isBot ?? false,
    is_email_confirmed: user.email === undefined ? false : (user.emailConfirmed ?? true),
    profile: {
      ...(user.email === undefined ? {} : { email: user.email }),
      display_name: user.name,
      real_name: user.name,
    },
  };
}

const usersInfo: Handler = ({ state, args }) => {
  const id = stringArg(args, "user");
  const user = id === undefined ? undefined : state.users.get(id);
  if (user === undefined) throw new SlackRefusal("user_not_found");
  return { user: userObject(state, user) };
};

/** Emails compare case-insensitively. A deactivated user is still found (check `deleted`). */
const usersLookupByEmail: Handler = ({ state, args }) => {
  const email = stringArg(args, "email")?.toLowerCase();
  const user =
    email === undefined || email === ""
      ? undefined
      : [...state.users.values()].find((candidate) => candidate.email?.toLowerCase() === email);
  if (user === undefined) throw new SlackRefusal("users_not_found");
  return { user: userObject(state, user) };
};

/** One user → that user's DM. Group DMs (several users) are not modelled and refused as such. */
const conversationsOpen: Handler = ({ state, args }) => {
  const channelArg = stringArg(args, "channel");
  if (channelArg !== undefined && channelArg !== "") {
    const channel = state.channels.get(channelArg);
    if (channel?.kind !== "dm") throw new SlackRefusal("channel_not_found");
    return { channel: { id: channel.id } };
  }
  const users = (stringArg(args, "users") ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (users.length === 0) throw new SlackRefusal("users_list_not_supplied");
  if (users.length > 1) {
    throw refusalWithMessages("sandbox_unsupported", ["the Slack stand-in does not model group DMs"], false);
  }
  const dm = state.dmOfUser.get(users[0] ?? "");
  if (dm === undefined) throw new SlackRefusal("user_not_found");
  return { channel: { id: dm.id } };
};

const authTest: Handler = ({ state }) => ({
  url: `https://${SLACK_SANDBOX_IDS.teamDomain}.slack.com/`,
  team: SLACK_SANDBOX_IDS.teamName,
  user: state.users.get(state.botUserId)?.name ?? SLACK_SANDBOX_IDS.botName,
  team_id: state.teamId,
  user_id: state.botUserId,
  bot_id: SLACK_SANDBOX_IDS.botId,
  is_enterprise_install: false,
});

/** Handlers by Web API method name. */
export const SLACK_METHODS: Readonly<Record<string, Handler>> = {
  "auth.test": authTest,
  "chat.postMessage": postMessage,
  "chat.update": updateMessage,
  "chat.postEphemeral": postEphemeral,
  "views.open": openView(["modal"]),
  "views.push": openView(["modal"]),
  "views.update": viewsUpdate,
  "views.publish": viewsPublish,
  "users.info": usersInfo,
  "users.lookupByEmail": usersLookupByEmail,
  "conversations.open": conversationsOpen,
};
