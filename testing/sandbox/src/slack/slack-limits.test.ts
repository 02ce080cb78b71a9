import { ErrorCode, type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SLACK_LIMITS } from "./slack-limits.js";
import { startSlackSandbox } from "./slack-sandbox.js";
import type { SlackSandbox } from "./slack-sandbox-types.js";

/**
 * Every Block Kit limit the contracts name, refused by the stand-in the way Slack refuses it: messages
 * with `invalid_blocks` (plus `errors`), views with `invalid_arguments`, both with
 * `response_metadata.messages` "[ERROR] … [json-pointer:…]". Each limit is also shown to be accepted
 * exactly at the limit, so an off-by-one in the stand-in would show.
 */

const BOT_TOKEN = "xoxb-sandbox-limits";

const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const plain = (text: string) => ({ type: "plain_text", text });
const mrkdwn = (text: string) => ({ type: "mrkdwn", text });
const section = (text: string) => ({ type: "section", text: mrkdwn(text) });
const button = (fields: { text?: string; value?: string; action_id?: string }) => ({
  type: "button",
  text: plain(fields.text ?? "Approve"),
  action_id: fields.action_id ?? "approve",
  ...(fields.value === undefined ? {} : { value: fields.value }),
});
const option = (text: string, value = "v") => ({ text: plain(text), value });
const options = (count: number) => Array.from({ length: count }, (_, i) => option(`option ${i}`, `v${i}`));
const select = (opts: unknown[]) => ({
  type: "input",
  block_id: "pick",
  label: plain("Pick"),
  element: { type: "static_select", action_id: "choice", options: opts },
});
const x = (count: number) => "x".repeat(count);

type Refusal = { error: string; errors?: string[]; response_metadata?: { messages?: string[] } };

describe("Slack stand-in: Block Kit limits", () => {
  let sandbox: SlackSandbox;
  let slack: WebClient;
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "alice" }],
      channels: [{ id: "C1APPROVALS", name: "approvals" }],
      rateLimitPerChannelPerSecond: 0,
    });
    slack = new WebClient(BOT_TOKEN, {
      slackApiUrl: sandbox.apiUrl,
      retryConfig: { retries: 0 },
      logger: quietLogger,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  async function refusal(call: Promise<unknown>): Promise<Refusal> {
    const error: unknown = await call.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: ErrorCode.PlatformError });
    return (error as { data: Refusal }).data;
  }

  const post = (blocks: unknown[]) =>
    slack.chat.postMessage({ channel: "C1APPROVALS", text: "fallback", blocks: blocks as never });
  const open = (view: Record<string, unknown>) =>
    slack.views.open({ trigger_id: sandbox.newTriggerId(), view: view as never });
  const modal = (fields: Record<string, unknown> = {}) => ({
    type: "modal",
    title: plain("Request access"),
    submit: plain("Request"),
    blocks: [section("Why?")],
    ...fields,
  });

  /** [limit, blocks exactly at the limit, blocks one past it, JSON pointer of the problem]. */
  const messageCases: [string, unknown[], unknown[], string][] = [
    [
      "50 blocks in a message",
      Array(50).fill({ type: "divider" }),
      Array(51).fill({ type: "divider" }),
      "/blocks",
    ],
    ["section text 3000", [section(x(3000))], [section(x(3001))], "/blocks/0/text/text"],
    [
      "section fields 2000 each",
      [{ type: "section", fields: [mrkdwn(x(2000))] }],
      [{ type: "section", fields: [mrkdwn("ok"), mrkdwn(x(2001))] }],
      "/blocks/0/fields/1/text",
    ],
    [
      "section fields at most 10",
      [{ type: "section", fields: Array(10).fill(mrkdwn("f")) }],
      [{ type: "section", fields: Array(11).fill(mrkdwn("f")) }],
      "/blocks/0/fields",
    ],
    [
      "header text 150",
      [{ type: "header", text: plain(x(150)) }],
      [{ type: "header", text: plain(x(151)) }],
      "/blocks/0/text/text",
    ],
    [
      "block_id 255",
      [{ type: "divider", block_id: x(255) }],
      [{ type: "divider", block_id: x(256) }],
      "/blocks/0/block_id",
    ],
    [
      "block_id unique within a message",
      [
        { type: "divider", block_id: "a" },
        { type: "divider", block_id: "b" },
      ],
      [
        { type: "divider", block_id: "a" },
        { type: "divider", block_id: "a" },
      ],
      "/blocks/1/block_id",
    ],
    [
      "action_id 255",
      [{ type: "actions", elements: [button({ action_id: x(255) })] }],
      [{ type: "actions", elements: [button({ action_id: x(256) })] }],
      "/blocks/0/elements/0/action_id",
    ],
    [
      "action_id unique within a block",
      [{ type: "actions", elements: [button({ action_id: "a" }), button({ action_id: "b" })] }],
      [{ type: "actions", elements: [button({ action_id: "a" }), button({ action_id: "a" })] }],
      "/blocks/0/elements/1/action_id",
    ],
    [
      "button value 2000",
      [{ type: "actions", elements: [button({ value: x(2000) })] }],
      [{ type: "actions", elements: [button({ value: x(2001) })] }],
      "/blocks/0/elements/0/value",
    ],
    [
      "button text 75",
      [{ type: "actions", elements: [button({ text: x(75) })] }],
      [{ type: "actions", elements: [button({ text: x(76) })] }],
      "/blocks/0/elements/0/text/text",
    ],
    [
      "a section accessory is checked like any element",
      [{ ...section("s"), accessory: button({ value: x(2000) }) }],
      [{ ...section("s"), accessory: button({ value: x(2001) }) }],
      "/blocks/0/accessory/value",
    ],
    [
      "actions block at most 25 elements",
      [{ type: "actions", elements: Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` })) }],
      [{ type: "actions", elements: Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })) }],
      "/blocks/0/elements",
    ],
    [
      "context block at most 10 elements",
      [{ type: "context", elements: Array(10).fill(mrkdwn("c")) }],
      [{ type: "context", elements: Array(11).fill(mrkdwn("c")) }],
      "/blocks/0/elements",
    ],
    ["text objects are not empty", [section("s")], [section("")], "/blocks/0/text/text"],
    ["block types are Slack's", [{ type: "divider" }], [{ type: "dividr" }], "/blocks/0/type"],
  ];

  it.each(messageCases)("message: %s", async (_name, atLimit, pastLimit, pointer) => {
    await expect(post(atLimit)).resolves.toMatchObject({ ok: true });
    const answer = await refusal(post(pastLimit));
    expect(answer.error).toBe("invalid_blocks");
    expect(answer.errors?.some((e) => e.endsWith(`[json-pointer:${pointer}]`))).toBe(true);
    expect(answer.response_metadata?.messages?.every((m) => m.startsWith("[ERROR] "))).toBe(true);
    expect(answer.response_metadata?.messages?.some((m) => m.endsWith(`[json-pointer:${pointer}]`))).toBe(
      true,
    );
  });

  it("message limits apply to chat.update and chat.postEphemeral too", async () => {
    const posted = await post([section("s")]);
    const tooMany = Array(51).fill({ type: "divider" });
    const update = slack.chat.update({ channel: "C1APPROVALS", ts: posted.ts ?? "", blocks: tooMany });
    expect((await refusal(update)).error).toBe("invalid_blocks");
    const ephemeral = slack.chat.postEphemeral({
      channel: "C1APPROVALS",
      user: "U1ALICE",
      text: "t",
      blocks: tooMany,
    });
    expect((await refusal(ephemeral)).error).toBe("invalid_blocks");
    expect(sandbox.messages("C1APPROVALS")[0]?.updates).toBe(0);
  });

  it("blocks that are not JSON are invalid_blocks_format", async () => {
    const response = await fetch(`${sandbox.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOT_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ channel: "C1APPROVALS", text: "t", blocks: "[{not json" }).toString(),
    });
    expect(await response.json()).toEqual({ ok: false, error: "invalid_blocks_format" });
    expect(sandbox.calls[0]?.args.blocks).toBe("[{not json");
  });

  /** [limit, view exactly at the limit, view one past it, JSON pointer]. */
  const viewCases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
    [
      "100 blocks in a modal",
      modal({ blocks: Array(100).fill({ type: "divider" }) }),
      modal({ blocks: Array(101).fill({ type: "divider" }) }),
      "/view/blocks",
    ],
    ["modal title 24", modal({ title: plain(x(24)) }), modal({ title: plain(x(25)) }), "/view/title/text"],
    ["modal title is plain_text", modal(), modal({ title: mrkdwn("Title") }), "/view/title/type"],
    [
      "modal submit 24",
      modal({ submit: plain(x(24)) }),
      modal({ submit: plain(x(25)) }),
      "/view/submit/text",
    ],
    ["modal close 24", modal({ close: plain(x(24)) }), modal({ close: plain(x(25)) }), "/view/close/text"],
    ["callback_id 255", modal({ callback_id: x(255) }), modal({ callback_id: x(256) }), "/view/callback_id"],
    [
      "private_metadata 3000",
      modal({ private_metadata: x(3000) }),
      modal({ private_metadata: x(3001) }),
      "/view/private_metadata",
    ],
    ["external_id 255", modal({ external_id: x(255) }), modal({ external_id: x(256) }), "/view/external_id"],
    [
      "section text 3000 inside a view",
      modal({ blocks: [section(x(3000))] }),
      modal({ blocks: [section(x(3001))] }),
      "/view/blocks/0/text/text",
    ],
    [
      "static_select option text 75",
      modal({ blocks: [select([option(x(75))])] }),
      modal({ blocks: [select([option(x(76))])] }),
      "/view/blocks/0/element/options/0/text/text",
    ],
    [
      "static_select at most 100 options",
      modal({ blocks: [select(options(100))] }),
      modal({ blocks: [select(options(101))] }),
      "/view/blocks/0/element/options",
    ],
    [
      "option value 150",
      modal({ blocks: [select([option("o", x(150))])] }),
      modal({ blocks: [select([option("o", x(151))])] }),
      "/view/blocks/0/element/options/0/value",
    ],
    [
      "a modal with input blocks needs submit",
      modal({ blocks: [select(options(2))] }),
      modal({ blocks: [select(options(2))], submit: undefined }),
      "/view/submit",
    ],
    ["views.open takes a modal", modal(), { ...modal(), type: "home" }, "/view/type"],
  ];

  it.each(viewCases)("modal: %s", async (_name, atLimit, pastLimit, pointer) => {
    await expect(open(atLimit)).resolves.toMatchObject({ ok: true });
    const answer = await refusal(open(pastLimit));
    expect(answer.error).toBe("invalid_arguments");
    expect(answer.response_metadata?.messages).toContainEqual(expect.stringMatching(/^\[ERROR\] /));
    expect(answer.response_metadata?.messages?.some((m) => m.endsWith(`[json-pointer:${pointer}]`))).toBe(
      true,
    );
  });

  it("an App Home view holds 100 blocks, not 101", async () => {
    const home = (count: number) => ({ type: "home", blocks: Array(count).fill({ type: "divider" }) });
    await expect(
      slack.views.publish({ user_id: "U1ALICE", view: home(100) as never }),
    ).resolves.toMatchObject({
      ok: true,
    });
    const answer = await refusal(slack.views.publish({ user_id: "U1ALICE", view: home(101) as never }));
    expect(answer).toMatchObject({
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"] },
    });
  });

  it("a view that is not JSON is invalid_arguments", async () => {
    const response = await fetch(`${sandbox.apiUrl}views.open`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOT_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ trigger_id: sandbox.newTriggerId(), view: "{not json" }).toString(),
    });
    expect(await response.json()).toMatchObject({ ok: false, error: "invalid_arguments" });
  });

  it("the constants are the contracts' numbers", () => {
    expect(SLACK_LIMITS).toMatchObject({
      messageBlocks: 50,
      viewBlocks: 100,
      sectionTextChars: 3000,
      actionIdChars: 255,
      blockIdChars: 255,
      buttonValueChars: 2000,
      modalTitleChars: 24,
      messageTextChars: 40_000,
      triggerLifetimeMs: 3000,
      postMessagesPerChannelPerSecond: 1,
    });
  });
});
