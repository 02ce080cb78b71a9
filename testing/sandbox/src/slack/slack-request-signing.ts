import { createHmac } from "node:crypto";
import { SLACK_SANDBOX_IDS } from "./slack-sandbox-types.js";

/**
 * Sending Slack's side of the conversation to an app under test: request signing, the bodies Slack
 * posts for slash commands and interactions, and payload builders shaped the way Bolt 5 routes them.
 * Defaults match the Slack stand-in's (SLACK_SANDBOX_IDS), so a payload's team and app are the ones
 * the stand-in reports.
 */

export type SlackSignatureHeaders = { "x-slack-signature": string; "x-slack-request-timestamp": string };

/**
 * Slack's v0 request signature: `v0=` + hex HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`).
 * `timestamp` is in epoch seconds; default the wall clock (an app refuses one more than 5 minutes off).
 */
export function signSlackRequest(input: {
  signingSecret: string;
  body: string;
  timestamp?: number;
}): SlackSignatureHeaders {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const digest = createHmac("sha256", input.signingSecret)
    .update(`v0:${timestamp}:${input.body}`)
    .digest("hex");
  return { "x-slack-signature": `v0=${digest}`, "x-slack-request-timestamp": String(timestamp) };
}

/**
 * Where a payload's `response_url` points unless a test passes one: a local port nothing listens on,
 * so an app that uses it fails fast instead of reaching the real hooks.slack.com.
 */
export const UNREACHABLE_RESPONSE_URL = "http://127.0.0.1:9/slack-sandbox/response-url";

/** The form body Slack posts to an app for a slash command, fields in Slack's order. */
export function slashCommandBody(input: {
  command: string;
  text?: string;
  userId: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  triggerId: string;
  teamId?: string;
  responseUrl?: string;
}): string {
  const channelId = input.channelId ?? "C0SANDBOX";
  return new URLSearchParams([
    ["token", SLACK_SANDBOX_IDS.verificationToken],
    ["team_id", input.teamId ?? SLACK_SANDBOX_IDS.teamId],
    ["team_domain", SLACK_SANDBOX_IDS.teamDomain],
    ["channel_id", channelId],
    ["channel_name", input.channelName ?? (channelId.startsWith("D") ? "directmessage" : "sandbox")],
    ["user_id", input.userId],
    ["user_name", input.userName ?? input.userId],
    ["command", input.command],
    ["text", input.text ?? ""],
    ["api_app_id", SLACK_SANDBOX_IDS.appId],
    // Slack sends this as a string in slash commands; Bolt reads it as one.
    ["is_enterprise_install", "false"],
    ["response_url", input.responseUrl ?? UNREACHABLE_RESPONSE_URL],
    ["trigger_id", input.triggerId],
  ]).toString();
}

/** The form body Slack posts for block_actions, view_submission and shortcut payloads: `payload=<JSON>`. */
export const interactionBody = (payload: object): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** Slack's action_ts / message ts shape for the wall clock (payloads only; never compared by the stand-in). */
function wallClockTs(): string {
  const micros = Date.now() * 1000;
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
}

const team = (teamId: string | undefined) => ({
  id: teamId ?? SLACK_SANDBOX_IDS.teamId,
  domain: SLACK_SANDBOX_IDS.teamDomain,
});

const user = (userId: string, teamId: string | undefined, userName?: string) => ({
  id: userId,
  username: userName ?? userId,
  name: userName ?? userId,
  team_id: teamId ?? SLACK_SANDBOX_IDS.teamId,
});

/** The `view` object of an interaction payload, as Slack sends it for an open modal. */
function payloadView(input: {
  viewId: string;
  teamId: string | undefined;
  callbackId?: string;
  privateMetadata?: string;
  values?: ViewStateValues;
  hash?: string;
}) {
  const teamId = input.teamId ?? SLACK_SANDBOX_IDS.teamId;
  return {
    id: input.viewId,
    team_id: teamId,
    type: "modal",
    blocks: [],
    private_metadata: input.privateMetadata ?? "",
    callback_id: input.callbackId ?? "",
    state: { values: input.values ?? {} },
    hash: input.hash ?? "1732365000.sandbox",
    title: { type: "plain_text", text: "Sandbox" },
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: null,
    previous_view_id: null,
    root_view_id: input.viewId,
    app_id: SLACK_SANDBOX_IDS.appId,
    external_id: "",
    app_installed_team_id: teamId,
    bot_id: SLACK_SANDBOX_IDS.botId,
  };
}

/**
 * A button click (`block_actions`). With `viewId` the button is in a modal (container type "view");
 * otherwise in the message `messageTs` of `channelId`.
 */
export function blockActionPayload(input: {
  userId: string;
  userName?: string;
  actionId: string;
  value: string;
  blockId?: string;
  channelId?: string;
  messageTs?: string;
  triggerId: string;
  viewId?: string;
  teamId?: string;
  responseUrl?: string;
}) {
  const actionTs = wallClockTs();
  const container =
    input.viewId === undefined
      ? {
          type: "message",
          ...(input.messageTs === undefined ? {} : { message_ts: input.messageTs }),
          ...(input.channelId === undefined ? {} : { channel_id: input.channelId }),
          is_ephemeral: false,
        }
      : { type: "view", view_id: input.viewId };
  return {
    type: "block_actions",
    user: user(input.userId, input.teamId, input.userName),
    api_app_id: SLACK_SANDBOX_IDS.appId,
    token: SLACK_SANDBOX_IDS.verificationToken,
    container,
    trigger_id: input.triggerId,
    team: team(input.teamId),
    enterprise: null,
    is_enterprise_install: false,
    ...(input.channelId === undefined ? {} : { channel: { id: input.channelId, name: "sandbox" } }),
    ...(input.messageTs === undefined
      ? {}
      : { message: { type: "message", ts: input.messageTs, user: SLACK_SANDBOX_IDS.botUserId, text: "" } }),
    ...(input.viewId === undefined
      ? {}
      : { view: payloadView({ viewId: input.viewId, teamId: input.teamId }) }),
    state: { values: {} },
    response_url: input.responseUrl ?? UNREACHABLE_RESPONSE_URL,
    actions: [
      {
        type: "button",
        action_id: input.actionId,
        block_id: input.blockId ?? "sandbox-block",
        value: input.value,
        text: { type: "plain_text", text: input.value, emoji: true },
        action_ts: actionTs,
      },
    ],
  };
}

/** A modal's `state.values`: block_id → action_id → the element's state (`{type, value}`, `{type, selected_option}`…). */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

/** A modal submission (`view_submission`); Bolt routes it by `view.callback_id`. */
export function viewSubmissionPayload(input: {
  userId: string;
  userName?: string;
  callbackId: string;
  values: ViewStateValues;
  privateMetadata?: string;
  triggerId?: string;
  viewId?: string;
  hash?: string;
  teamId?: string;
}) {
  return {
    type: "view_submission",
    team: team(input.teamId),
    user: user(input.userId, input.teamId, input.userName),
    api_app_id: SLACK_SANDBOX_IDS.appId,
    token: SLACK_SANDBOX_IDS.verificationToken,
    trigger_id: input.triggerId ?? "0.0.sandbox-no-trigger",
    view: payloadView({
      viewId: input.viewId ?? "V0SANDBOX",
      teamId: input.teamId,
      callbackId: input.callbackId,
      values: input.values,
      ...(input.privateMetadata === undefined ? {} : { privateMetadata: input.privateMetadata }),
      ...(input.hash === undefined ? {} : { hash: input.hash }),
    }),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** A global shortcut (`shortcut`); Bolt routes it by `callback_id`. */
export function globalShortcutPayload(input: {
  userId: string;
  userName?: string;
  callbackId: string;
  triggerId: string;
  teamId?: string;
}) {
  return {
    type: "shortcut",
    token: SLACK_SANDBOX_IDS.verificationToken,
    action_ts: wallClockTs(),
    team: team(input.teamId),
    user: {
      id: input.userId,
      username: input.userName ?? input.userId,
      team_id: input.teamId ?? SLACK_SANDBOX_IDS.teamId,
    },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: input.callbackId,
    trigger_id: input.triggerId,
  };
}

/**
 * POSTs `body` to an app's Slack endpoint (e.g. `http://127.0.0.1:3000/slack/events`) signed as Slack
 * signs it. Content type default `application/x-www-form-urlencoded` (slash commands, interactions);
 * pass `application/json` for Events API bodies.
 */
export async function postSignedToApp(
  url: string,
  body: string,
  options: { signingSecret: string; timestamp?: number; contentType?: string },
): Promise<{ status: number; text: string }> {
  const signature = signSlackRequest({
    signingSecret: options.signingSecret,
    body,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": options.contentType ?? "application/x-www-form-urlencoded", ...signature },
    body,
  });
  return { status: response.status, text: await response.text() };
}
