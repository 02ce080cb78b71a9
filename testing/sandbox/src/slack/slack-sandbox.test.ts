import { ErrorCode, type Logger, LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSlackSandbox } from "./slack-sandbox.js";
import type { SlackSandbox } from "./slack-sandbox-types.js";

const BOT_TOKEN = "xoxb-sandbox-test-token";

/** WebClient logs [ERROR] response messages and missing-fallback warnings; tests read them from results. */
const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const client = (sandbox: SlackSandbox, token = BOT_TOKEN, options: WebClientOptions = {}) =>
  new WebClient(token, {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    logger: quietLogger,
    ...options,
  });

/** The `error` code a WebClient call was refused with (fails the test if it succeeded). */
async function slackError(call: Promise<unknown>): Promise<string> {
  const error: unknown = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toMatchObject({ code: ErrorCode.PlatformError });
  return (error as { data: { error: string } }).data.error;
}

/** A raw POST, for what WebClient never sends (bad JSON, JSON bodies). */
const rawPost = async (
  sandbox: SlackSandbox,
  method: string,
  body: string,
  headers: Record<string, string>,
) => {
  const response = await fetch(`${sandbox.apiUrl}${method}`, { method: "POST", headers, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

describe("Slack stand-in: auth and the answer envelope", () => {
  let sandbox: SlackSandbox;
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "alice" }],
      channels: [{ id: "C1APPROVALS", name: "approvals" }],
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("auth.test answers with the bot's identity", async () => {
    const result = await client(sandbox).auth.test();
    expect(result).toMatchObject({
      ok: true,
      team_id: "T0SANDBOX",
      user_id: "UBOTSANDBOX",
      bot_id: "B0SANDBOX",
      user: "leasehold",
      team: "Leasehold Sandbox",
      url: "https://leasehold-sandbox.slack.com/",
    });
  });

  it("a token other than the bot token is invalid_auth, with HTTP 200", async () => {
    expect(await slackError(client(sandbox, "xoxb-wrong").auth.test())).toBe("invalid_auth");
    expect(sandbox.calls).toEqual([
      expect.objectContaining({ method: "auth.test", ok: false, error: "invalid_auth", status: 200 }),
    ]);
  });

  it("no token at all is not_authed", async () => {
    expect(await slackError(client(sandbox, "").auth.test())).toBe("not_authed");
  });

  it("accepts the token as a form field, and never records it", async () => {
    const response = await rawPost(sandbox, "auth.test", `token=${BOT_TOKEN}`, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(response).toMatchObject({ status: 200, json: { ok: true } });
    expect(sandbox.calls[0]?.args).toEqual({});
  });

  it("reads a JSON body, but a JSON body's token only from the Authorization header (as Slack does)", async () => {
    const body = JSON.stringify({ channel: "C1APPROVALS", text: "hi", blocks: [{ type: "divider" }] });
    const withHeader = await rawPost(sandbox, "chat.postMessage", body, {
      "content-type": "application/json; charset=utf-8",
      authorization: `Bearer ${BOT_TOKEN}`,
    });
    expect(withHeader).toMatchObject({ status: 200, json: { ok: true, channel: "C1APPROVALS" } });
    const tokenInBody = await rawPost(sandbox, "auth.test", JSON.stringify({ token: BOT_TOKEN }), {
      "content-type": "application/json",
    });
    expect(tokenInBody.json).toEqual({ ok: false, error: "not_authed" });
  });

  it("a JSON body that is not JSON is invalid_json", async () => {
    const response = await rawPost(sandbox, "auth.test", "{nope", {
      "content-type": "application/json",
      authorization: `Bearer ${BOT_TOKEN}`,
    });
    expect(response).toEqual({ status: 200, json: { ok: false, error: "invalid_json" } });
  });

  it("an unknown method is unknown_method", async () => {
    expect(await slackError(client(sandbox).apiCall("chat.teleport", {}))).toBe("unknown_method");
  });
});

describe("Slack stand-in: messages", () => {
  let sandbox: SlackSandbox;
  const clock = { now: new Date("2026-11-23T12:00:00Z") };
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [
        { id: "U1ALICE", name: "alice", email: "alice@example.com" },
        { id: "U2BOB", name: "bob" },
        { id: "U3GONE", name: "gone", deleted: true },
      ],
      channels: [
        { id: "C1APPROVALS", name: "approvals" },
        { id: "C2PRIVATE", name: "private", botIsMember: false },
        { id: "C3SMALL", name: "small", memberIds: ["U1ALICE"] },
      ],
      clock: () => clock.now,
      rateLimitPerChannelPerSecond: 0,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("chat.postMessage answers {ok, channel, ts, message} with strictly increasing ts", async () => {
    const slack = client(sandbox);
    const first = await slack.chat.postMessage({ channel: "C1APPROVALS", text: "one" });
    const second = await slack.chat.postMessage({ channel: "C1APPROVALS", text: "two" });
    expect(first).toMatchObject({ ok: true, channel: "C1APPROVALS", message: { text: "one", ts: first.ts } });
    // A frozen clock still gives distinct, growing ts values.
    expect(first.ts).toBe("1795435200.000000");
    expect(second.ts).toBe("1795435200.000100");
    expect(sandbox.messages("C1APPROVALS").map((m) => m.text)).toEqual(["one", "two"]);
  });

  it("finds a channel by name, and answers with its id", async () => {
    const result = await client(sandbox).chat.postMessage({ channel: "#approvals", text: "by name" });
    expect(result.channel).toBe("C1APPROVALS");
  });

  it("an unknown channel is channel_not_found", async () => {
    expect(await slackError(client(sandbox).chat.postMessage({ channel: "C9NOPE", text: "x" }))).toBe(
      "channel_not_found",
    );
  });

  it("a channel the bot is not in is not_in_channel", async () => {
    expect(await slackError(client(sandbox).chat.postMessage({ channel: "C2PRIVATE", text: "x" }))).toBe(
      "not_in_channel",
    );
    expect(sandbox.messages("C2PRIVATE")).toEqual([]);
  });

  it("posting to a user id goes to that user's DM, whose id is stable", async () => {
    const slack = client(sandbox);
    const dm = sandbox.dmChannelOf("U1ALICE");
    expect(dm).toMatch(/^D[0-9A-F]{10}$/);
    const posted = await slack.chat.postMessage({ channel: "U1ALICE", text: "approve?" });
    expect(posted.channel).toBe(dm);
    expect((await slack.conversations.open({ users: "U1ALICE" })).channel).toEqual({ id: dm });
    await slack.chat.postMessage({ channel: dm, text: "again" });
    expect(sandbox.messages(dm).map((m) => m.text)).toEqual(["approve?", "again"]);
    // Derived from team and user, not from the order of events or the run.
    const other = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "a" }],
      channels: [],
    });
    expect(other.dmChannelOf("U1ALICE")).toBe(dm);
    await other.close();
  });

  it("posting to an unknown user id is channel_not_found", async () => {
    expect(await slackError(client(sandbox).chat.postMessage({ channel: "U9NOBODY", text: "x" }))).toBe(
      "channel_not_found",
    );
  });

  it("a message with neither text nor blocks is no_text", async () => {
    expect(await slackError(client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text: "" }))).toBe(
      "no_text",
    );
    expect(
      await slackError(client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text: "", blocks: [] })),
    ).toBe("no_text");
  });

  it("text past 40,000 characters is accepted and stored truncated", async () => {
    const text = `${"a".repeat(39_999)}bc`;
    const result = await client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text });
    expect(result.ok).toBe(true);
    const stored = sandbox.messages("C1APPROVALS")[0]?.text ?? "";
    expect(stored).toHaveLength(40_000);
    expect(stored.endsWith("ab")).toBe(true);
  });

  it("chat.update changes the message in place and keeps its history", async () => {
    const slack = client(sandbox);
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*pending*" } }];
    const posted = await slack.chat.postMessage({ channel: "C1APPROVALS", text: "pending", blocks });
    const ts = posted.ts ?? "";
    const updated = await slack.chat.update({ channel: "C1APPROVALS", ts, text: "approved" });
    expect(updated).toMatchObject({ ok: true, channel: "C1APPROVALS", ts, text: "approved" });
    const [message, ...others] = sandbox.messages("C1APPROVALS");
    expect(others).toEqual([]);
    // Blocks left out of chat.update are kept, as in Slack.
    expect(message).toMatchObject({ ts, text: "approved", blocks, updates: 1 });
    expect(message?.history).toEqual([{ text: "pending", blocks, replacedAt: clock.now }]);
  });

  it("chat.update of an unknown ts is message_not_found", async () => {
    await client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text: "x" });
    expect(
      await slackError(client(sandbox).chat.update({ channel: "C1APPROVALS", ts: "1.000001", text: "y" })),
    ).toBe("message_not_found");
  });

  it("chat.update needs the DM's id, not the user id it was posted with", async () => {
    const posted = await client(sandbox).chat.postMessage({ channel: "U1ALICE", text: "x" });
    expect(
      await slackError(client(sandbox).chat.update({ channel: "U1ALICE", ts: posted.ts ?? "", text: "y" })),
    ).toBe("channel_not_found");
    await client(sandbox).chat.update({ channel: posted.channel ?? "", ts: posted.ts ?? "", text: "y" });
  });

  it("chat.postEphemeral answers {ok, message_ts} and keeps it out of the channel", async () => {
    const result = await client(sandbox).chat.postEphemeral({
      channel: "C1APPROVALS",
      user: "U2BOB",
      text: "psst",
    });
    expect(result).toMatchObject({ ok: true, message_ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(sandbox.ephemerals).toEqual([
      { channel: "C1APPROVALS", user: "U2BOB", messageTs: result.message_ts, text: "psst", blocks: [] },
    ]);
    expect(sandbox.messages("C1APPROVALS")).toEqual([]);
  });

  it("chat.postEphemeral to someone not in the channel is user_not_in_channel", async () => {
    const slack = client(sandbox);
    for (const user of ["U9NOBODY", "U2BOB", "U3GONE"]) {
      const channel = user === "U2BOB" ? "C3SMALL" : "C1APPROVALS";
      expect(await slackError(slack.chat.postEphemeral({ channel, user, text: "x" }))).toBe(
        "user_not_in_channel",
      );
    }
  });

  it("users.info and users.lookupByEmail answer Slack's user object", async () => {
    const slack = client(sandbox);
    const expected = {
      id: "U1ALICE",
      name: "alice",
      deleted: false,
      is_bot: false,
      is_email_confirmed: true,
      profile: { email: "alice@example.com", display_name: "alice", real_name: "alice" },
    };
    expect((await slack.users.info({ user: "U1ALICE" })).user).toMatchObject(expected);
    expect((await slack.users.lookupByEmail({ email: "Alice@Example.com" })).user).toMatchObject(expected);
    expect((await slack.users.info({ user: "U3GONE" })).user).toMatchObject({ deleted: true });
    expect((await slack.users.info({ user: "UBOTSANDBOX" })).user).toMatchObject({ is_bot: true });
  });

  it("unknown users are user_not_found / users_not_found", async () => {
    const slack = client(sandbox);
    expect(await slackError(slack.users.info({ user: "U9NOBODY" }))).toBe("user_not_found");
    expect(await slackError(slack.users.lookupByEmail({ email: "nobody@example.com" }))).toBe(
      "users_not_found",
    );
    expect(await slackError(slack.users.lookupByEmail({ email: "" }))).toBe("users_not_found");
    expect(await slackError(slack.conversations.open({ users: "U9NOBODY" }))).toBe("user_not_found");
  });

  it("records every call with its decoded arguments, in order", async () => {
    const blocks = [{ type: "section", text: { type: "plain_text", text: "hello" } }];
    await client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text: "hello", blocks });
    await client(sandbox)
      .chat.postMessage({ channel: "C9NOPE", text: "x" })
      .catch(() => undefined);
    expect(sandbox.calls).toEqual([
      {
        method: "chat.postMessage",
        args: { channel: "C1APPROVALS", text: "hello", blocks },
        ok: true,
        status: 200,
        at: clock.now,
      },
      {
        method: "chat.postMessage",
        args: { channel: "C9NOPE", text: "x" },
        ok: false,
        error: "channel_not_found",
        status: 200,
        at: clock.now,
      },
    ]);
  });

  it("allPayloadsText holds a secret verbatim, whatever encoding it travelled in", async () => {
    // Form encoding turns "/" and "+" into %2F and %2B; JSON escapes quotes.
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfi"CY';
    await client(sandbox).chat.postMessage({
      channel: "C1APPROVALS",
      text: "no secret here",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: `oops ${secret}` } }],
    });
    expect(sandbox.allPayloadsText()).toContain(secret);
    expect(sandbox.allPayloadsText()).not.toContain(BOT_TOKEN);
    sandbox.reset();
    expect(sandbox.allPayloadsText()).toBe("");
  });

  it("messages() refuses an id it does not know, so a user id is not mistaken for a DM", () => {
    expect(() => sandbox.messages("U1ALICE")).toThrow(/dmChannelOf/);
    expect(() => sandbox.dmChannelOf("U9NOBODY")).toThrow();
  });
});
