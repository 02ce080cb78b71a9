import { randomBytes } from "node:crypto";
import {
  blocksProblems,
  isRecord,
  SLACK_LIMITS,
  truncateMessageText,
  type ViewType,
  viewProblems,
} from "./slack-limits.js";
import {
  type ChannelState,
  channelMessages,
  nextSequence,
  nextTs,
  resolvePostChannel,
  type SlackState,
  type StoredView,
} from "./slack-sandbox-state.js";
import { SLACK_SANDBOX_IDS, type SlackSandboxUser } from "./slack-sandbox-types.js";

/**
 * The Web API methods the Slack stand-in serves, as functions from (state, args, now) to the fields
 * of an `ok: true` answer. A refusal is thrown as SlackRefusal (HTTP 200 `{ok: false, error}`) or
 * SlackRateLimited (HTTP 429).
 */

/** Slack's `{ok: false, error}` answer, with any extra fields (`errors`, `response_metadata`). */
export class SlackRefusal extends Error {
  override readonly name = "SlackRefusal";
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

/** HTTP 429 with `Retry-After: retryAfterSeconds`. */
export class SlackRateLimited extends Error {
  override readonly name = "SlackRateLimited";
  constructor(readonly retryAfterSeconds: number) {
    super("ratelimited");
  }
}

/** A refusal carrying Slack's `response_metadata.messages` (each "[ERROR] …"), and `errors` when Slack sends them. */
const refusalWithMessages = (code: string, problems: readonly string[], withErrors: boolean) =>
  new SlackRefusal(code, {
    ...(withErrors ? { errors: [...problems] } : {}),
    response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
  });

export type Args = Record<string, unknown>;
type Context = { state: SlackState; args: Args; now: Date };
type Handler = (context: Context) => Record<string, unknown>;

/** A string argument; numbers are accepted as their decimal text (JSON bodies may carry ts as a number). */
function stringArg(args: Args, name: string): string | undefined {
  const value = args[name];
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

const requireArg = (args: Args, name: string): string => {
  const value = stringArg(args, name);
  if (value === undefined || value === "") {
    throw refusalWithMessages("invalid_arguments", [`missing required field: ${name}`], false);
  }
  return value;
};

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

// ---- views -------------------------------------------------------------------------------------

/** A new trigger_id, shaped like Slack's (`<digits>.<digits>.<32 hex>`). */
export function issueTrigger(state: SlackState, userId: string | undefined): string {
  const digits = (count: number) => Array.from(randomBytes(count), (byte) => byte % 10).join("");
  const id = `${nextSequence(state)}${digits(11)}.${digits(11)}.${randomBytes(16).toString("hex")}`;
  state.triggers.set(id, {
    issuedAtMs: state.clock().getTime(),
    used: false,
    ...(userId === undefined ? {} : { userId }),
  });
  return id;
}

/**
 * The trigger a views.open/views.push names, checked in Slack's order: known, not exchanged before,
 * within 3 seconds of the interaction. The caller marks it used once the view is accepted.
 */
function usableTrigger(state: SlackState, args: Args, nowMs: number) {
  const id = requireArg(args, "trigger_id");
  const trigger = state.triggers.get(id);
  if (trigger === undefined) throw new SlackRefusal("invalid_trigger_id");
  if (trigger.used) throw new SlackRefusal("exchanged_trigger_id");
  if (nowMs - trigger.issuedAtMs >= SLACK_LIMITS.triggerLifetimeMs)
    throw new SlackRefusal("expired_trigger_id");
  return trigger;
}

function checkedView(args: Args, allowedTypes: readonly ViewType[]): Record<string, unknown> {
  const view = args.view;
  if (view === undefined)
    throw refusalWithMessages("invalid_arguments", ["missing required field: view"], false);
  const problems = viewProblems(view, allowedTypes);
  if (problems.length > 0 || !isRecord(view)) throw refusalWithMessages("invalid_arguments", problems, false);
  return view;
}

const newHash = (state: SlackState, now: Date) =>
  `${Math.floor(now.getTime() / 1000)}.${nextSequence(state).toString(16).padStart(8, "0")}`;

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

function refuseDuplicateExternalId(state: SlackState, externalId: string | undefined, ownId?: string): void {
  if (externalId !== undefined && state.views.some((v) => v.externalId === externalId && v.id !== ownId)) {
    throw new SlackRefusal("duplicate_external_id");
  }
}

/** The view as Slack returns it: the app's fields plus the ids, hash and state Slack adds. */
function renderView(state: SlackState, id: string, hash: string, view: Record<string, unknown>) {
  return {
    ...view,
    id,
    team_id: state.teamId,
    type: view.type,
    private_metadata: view.private_metadata ?? "",
    callback_id: view.callback_id ?? "",
    external_id: view.external_id ?? "",
    state: { values: {} },
    hash,
    clear_on_close: view.clear_on_close ?? false,
    notify_on_close: view.notify_on_close ?? false,
    root_view_id: id,
    previous_view_id: null,
    app_id: SLACK_SANDBOX_IDS.appId,
    app_installed_team_id: state.teamId,
    bot_id: SLACK_SANDBOX_IDS.botId,
  };
}

function createView(
  state: SlackState,
  now: Date,
  type: ViewType,
  view: Record<string, unknown>,
  userId?: string,
) {
  const externalId = nonEmpty(view.external_id);
  refuseDuplicateExternalId(state, externalId);
  const id = `V${nextSequence(state).toString(36).toUpperCase().padStart(8, "0")}`;
  const hash = newHash(state, now);
  const rendered = renderView(state, id, hash, view);
  const record: StoredView = {
    id,
    type,
    view: rendered,
    hash,
    updates: 0,
    ...(userId === undefined ? {} : { userId }),
    ...(externalId === undefined ? {} : { externalId }),
  };
  state.views.push(record);
  return rendered;
}

function replaceView(
  state: SlackState,
  now: Date,
  record: StoredView,
  view: Record<string, unknown>,
  hash?: string,
) {
  if (hash !== undefined && hash !== record.hash) throw new SlackRefusal("hash_conflict");
  const externalId = nonEmpty(view.external_id) ?? record.externalId;
  refuseDuplicateExternalId(state, externalId, record.id);
  record.hash = newHash(state, now);
  record.view = renderView(state, record.id, record.hash, {
    ...view,
    ...(externalId === undefined ? {} : { external_id: externalId }),
  });
  if (externalId !== undefined) record.externalId = externalId;
  record.updates += 1;
  return record.view;
}

const openView =
  (allowed: readonly ViewType[]): Handler =>
  ({ state, args, now }) => {
    const trigger = usableTrigger(state, args, now.getTime());
    const view = checkedView(args, allowed);
    trigger.used = true;
    return { view: createView(state, now, "modal", view, trigger.userId) };
  };

const viewsUpdate: Handler = ({ state, args, now }) => {
  const viewId = nonEmpty(args.view_id);
  const externalId = nonEmpty(args.external_id);
  if (viewId === undefined && externalId === undefined) {
    throw refusalWithMessages("invalid_arguments", ["must provide view_id or external_id"], false);
  }
  const record = state.views.find((v) =>
    viewId === undefined ? v.externalId === externalId : v.id === viewId,
  );
  if (record === undefined) throw new SlackRefusal("not_found");
  const view = checkedView(args, [record.type]);
  return { view: replaceView(state, now, record, view, stringArg(args, "hash")) };
};

/** One Home tab per user: the first publish creates it, later ones replace it under the same id. */
const viewsPublish: Handler = ({ state, args, now }) => {
  const userId = requireArg(args, "user_id");
  if (!state.users.has(userId)) throw refusalWithMessages("invalid_arguments", ["invalid `user_id`"], false);
  const view = checkedView(args, ["home"]);
  const existing = state.views.find((v) => v.type === "home" && v.userId === userId);
  if (existing !== undefined)
    return { view: replaceView(state, now, existing, view, stringArg(args, "hash")) };
  return { view: createView(state, now, "home", view, userId) };
};

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
