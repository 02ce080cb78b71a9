/** Public types of the Slack Web API stand-in (see slack-sandbox.ts). */

/** Ids the stand-in and the payload builders use unless told otherwise. */
export const SLACK_SANDBOX_IDS = {
  teamId: "T0SANDBOX",
  teamDomain: "leasehold-sandbox",
  teamName: "Leasehold Sandbox",
  appId: "A0SANDBOX",
  botUserId: "UBOTSANDBOX",
  botId: "B0SANDBOX",
  botName: "leasehold",
  /** The legacy verification token Slack puts in slash command and interaction payloads. */
  verificationToken: "sandbox-verification-token",
} as const;

/** A workspace member the stand-in knows (users.info, users.lookupByEmail, DMs). */
export type SlackSandboxUser = {
  id: string;
  name: string;
  email?: string;
  /** `is_email_confirmed`; default true when the user has an email. */
  emailConfirmed?: boolean;
  isBot?: boolean;
  /** A deactivated account: users.info and users.lookupByEmail still return it, with `deleted: true`. */
  deleted?: boolean;
};

export type SlackSandboxChannel = {
  id: string;
  name: string;
  /** Whether the bot is a member; posting to a channel it is not in fails with `not_in_channel`. Default true. */
  botIsMember?: boolean;
  /**
   * Who is in the channel, for chat.postEphemeral (`user_not_in_channel`). Default: every configured
   * user that is not deleted.
   */
  memberIds?: readonly string[];
};

export type SlackSandboxOptions = {
  /** The only token the stand-in accepts (`Authorization: Bearer …` or a `token` form field). */
  botToken: string;
  /** Default SLACK_SANDBOX_IDS.botUserId. */
  botUserId?: string;
  /** Default SLACK_SANDBOX_IDS.teamId. */
  teamId?: string;
  users: readonly SlackSandboxUser[];
  channels: readonly SlackSandboxChannel[];
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The server's clock: message ts, trigger expiry and the rate limit. Default: the wall clock. */
  clock?: () => Date;
  /**
   * chat.postMessage messages accepted per channel within any one second (by `clock`); more → HTTP 429
   * with Retry-After. Default 1, as Slack documents; 0 disables the limit.
   */
  rateLimitPerChannelPerSecond?: number;
};

/** Every Web API call the stand-in answered, oldest first. */
export type SlackCall = {
  method: string;
  /** The parsed body (and query), `blocks`/`view`/`attachments`/`metadata` decoded from JSON; never the token. */
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
  /** HTTP status: 200, 429 (rate limited) or 500 (an injected fault). */
  status: number;
  /** Sandbox clock time the request arrived. */
  at: Date;
};

/** One earlier version of a message, kept when chat.update replaced it. */
export type SlackMessageVersion = { text: string; blocks: readonly unknown[]; replacedAt: Date };

/** A message as it stands now in a channel or DM. */
export type SlackMessageRecord = {
  ts: string;
  /** Stored text, truncated at 40,000 characters as Slack does. */
  text: string;
  /** [] when the message has none. */
  blocks: readonly unknown[];
  threadTs?: string;
  /** How many times chat.update changed it. */
  updates: number;
  /** Earlier versions, oldest first. */
  history: readonly SlackMessageVersion[];
};

/** A chat.postEphemeral message: shown to one user, never part of the channel's history. */
export type SlackEphemeralRecord = {
  channel: string;
  user: string;
  messageTs: string;
  text: string;
  blocks: readonly unknown[];
};

/** A modal opened or pushed, or a Home tab published, as it stands now. */
export type SlackViewRecord = {
  id: string;
  type: "modal" | "home";
  /** The user the trigger was issued for, or the Home tab's owner. */
  userId?: string;
  externalId?: string;
  /** The view as the stand-in last returned it (with id, hash, state…). */
  view: Record<string, unknown>;
  hash: string;
  /** How many times views.update or views.publish replaced it. */
  updates: number;
};

/**
 * The next `times` calls of `method` (after authentication) do not get their normal answer:
 * - `error`: HTTP 200 `{ok: false, error}`, and the call has no effect;
 * - `ratelimit`: HTTP 429 with `Retry-After: retryAfterSeconds`, no effect;
 * - `delay`: the call takes effect at once but the answer is sent `ms` later (a client that times out
 *   has still posted, as with a slow Slack);
 * - `http500`: HTTP 500 with a non-JSON body, no effect.
 */
export type SlackFault =
  | { method: string; kind: "error"; error: string; times: number }
  | { method: string; kind: "ratelimit"; retryAfterSeconds: number; times: number }
  | { method: string; kind: "delay"; ms: number; times: number }
  | { method: string; kind: "http500"; times: number };

export type SlackSandbox = {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `${url}/api/`, for `new WebClient(token, { slackApiUrl })` or Bolt's `clientOptions.slackApiUrl`. */
  apiUrl: string;
  port: number;
  botUserId: string;
  teamId: string;
  /** Every answered Web API call, oldest first (a live, read-only view). */
  readonly calls: readonly SlackCall[];
  /** Current messages in a channel or DM (by id, as `dmChannelOf` gives it), oldest first. Throws for an unknown id. */
  messages(channelId: string): readonly SlackMessageRecord[];
  /** chat.postEphemeral messages, oldest first. */
  readonly ephemerals: readonly SlackEphemeralRecord[];
  /** Views opened, pushed or published, in the order they were created (updated in place). */
  readonly views: readonly SlackViewRecord[];
  /** The DM channel id (`D…`) of a configured user; stable across runs. Throws for an unknown user. */
  dmChannelOf(userId: string): string;
  /**
   * A trigger_id as Slack puts in an interaction payload: views.open/views.push accept it once, within
   * 3 seconds of now by the sandbox clock. `userId` says whose interaction it was (recorded on the view).
   */
  newTriggerId(userId?: string): string;
  /**
   * Every request body and response body seen, plus every decoded string value in them, one string:
   * a secret shows up here verbatim whichever encoding it travelled in.
   */
  allPayloadsText(): string;
  injectFault(fault: SlackFault): void;
  /** Back to the state just after start: no calls, messages, views, triggers, faults or rate-limit history. */
  reset(): void;
  close(): Promise<void>;
};
