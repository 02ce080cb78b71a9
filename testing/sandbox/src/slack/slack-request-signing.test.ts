import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { baseUrl, closeServer, listen, readBody } from "../http/http-server.js";
import {
  blockActionPayload,
  globalShortcutPayload,
  interactionBody,
  postSignedToApp,
  signSlackRequest,
  slashCommandBody,
  viewSubmissionPayload,
} from "./slack-request-signing.js";

/** Slack's published example ("Verifying requests from Slack"). */
const SLACK_EXAMPLE = {
  signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: 1531420618,
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};

describe("Slack request signing", () => {
  it("signSlackRequest matches the example in Slack's documentation", () => {
    expect(signSlackRequest(SLACK_EXAMPLE)).toEqual({
      "x-slack-signature": SLACK_EXAMPLE.signature,
      "x-slack-request-timestamp": "1531420618",
    });
  });

  it("signs with the current time when no timestamp is given", () => {
    const before = Math.floor(Date.now() / 1000);
    const timestamp = Number(signSlackRequest({ signingSecret: "s", body: "" })["x-slack-request-timestamp"]);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(before + 1);
  });

  it("slashCommandBody has Slack's fields, form-encoded as Slack encodes them", () => {
    const body = slashCommandBody({
      command: "/lease",
      text: "prod-db 30m because: incident #42",
      userId: "U1ALICE",
      userName: "alice",
      channelId: "C1APPROVALS",
      triggerId: "1.2.abc",
      responseUrl: "http://127.0.0.1:1234/hook",
    });
    expect(body).toContain("command=%2Flease&text=prod-db+30m+because%3A+incident+%2342");
    const fields = Object.fromEntries(new URLSearchParams(body));
    expect(Object.keys(fields)).toEqual([
      "token",
      "team_id",
      "team_domain",
      "channel_id",
      "channel_name",
      "user_id",
      "user_name",
      "command",
      "text",
      "api_app_id",
      "is_enterprise_install",
      "response_url",
      "trigger_id",
    ]);
    expect(fields).toMatchObject({
      team_id: "T0SANDBOX",
      channel_id: "C1APPROVALS",
      user_id: "U1ALICE",
      user_name: "alice",
      command: "/lease",
      text: "prod-db 30m because: incident #42",
      api_app_id: "A0SANDBOX",
      response_url: "http://127.0.0.1:1234/hook",
      trigger_id: "1.2.abc",
    });
    // Never the real hooks.slack.com unless a test asks for it.
    expect(
      Object.fromEntries(
        new URLSearchParams(slashCommandBody({ command: "/x", userId: "U", triggerId: "t" })),
      ),
    ).toMatchObject({ response_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/), text: "" });
  });

  it("interactionBody is payload=<JSON>, which decodes back to the payload", () => {
    const payload = globalShortcutPayload({
      userId: "U1ALICE",
      callbackId: "request_access",
      triggerId: "t.1",
    });
    const body = interactionBody(payload);
    expect(body.startsWith("payload=")).toBe(true);
    expect(JSON.parse(new URLSearchParams(body).get("payload") ?? "")).toEqual(payload);
  });

  it("blockActionPayload carries the fields Bolt routes a button click by", () => {
    const payload = blockActionPayload({
      userId: "U1ALICE",
      actionId: "approve",
      value: "request-42",
      blockId: "decision",
      channelId: "C1APPROVALS",
      messageTs: "1795435200.000100",
      triggerId: "t.2",
    });
    expect(payload).toMatchObject({
      type: "block_actions",
      user: { id: "U1ALICE", username: "U1ALICE", team_id: "T0SANDBOX" },
      team: { id: "T0SANDBOX" },
      api_app_id: "A0SANDBOX",
      token: expect.any(String),
      container: { type: "message", message_ts: "1795435200.000100", channel_id: "C1APPROVALS" },
      trigger_id: "t.2",
      channel: { id: "C1APPROVALS" },
      message: { ts: "1795435200.000100" },
      response_url: expect.any(String),
      actions: [
        {
          type: "button",
          action_id: "approve",
          block_id: "decision",
          value: "request-42",
          action_ts: expect.stringMatching(/^\d+\.\d{6}$/),
        },
      ],
    });
    const inModal = blockActionPayload({
      userId: "U1",
      actionId: "a",
      value: "v",
      triggerId: "t",
      viewId: "V1",
    });
    expect(inModal).toMatchObject({ container: { type: "view", view_id: "V1" }, view: { id: "V1" } });
    expect(inModal).not.toHaveProperty("channel");
  });

  it("viewSubmissionPayload carries callback_id, private_metadata and state.values, and no `actions`", () => {
    const values = { reason: { text: { type: "plain_text_input", value: "incident #42" } } };
    const payload = viewSubmissionPayload({
      userId: "U1ALICE",
      callbackId: "request_access",
      values,
      privateMetadata: '{"grant":"g-1"}',
      viewId: "V0000001",
    });
    expect(payload).toMatchObject({
      type: "view_submission",
      team: { id: "T0SANDBOX" },
      user: { id: "U1ALICE", team_id: "T0SANDBOX" },
      api_app_id: "A0SANDBOX",
      view: {
        id: "V0000001",
        callback_id: "request_access",
        private_metadata: '{"grant":"g-1"}',
        state: { values },
        hash: expect.any(String),
      },
    });
    // Bolt would take a body with `actions` for a block action.
    expect(payload).not.toHaveProperty("actions");
  });

  it("globalShortcutPayload is a `shortcut` with callback_id and trigger_id", () => {
    expect(
      globalShortcutPayload({ userId: "U1ALICE", callbackId: "request_access", triggerId: "t.3" }),
    ).toMatchObject({
      type: "shortcut",
      callback_id: "request_access",
      trigger_id: "t.3",
      user: { id: "U1ALICE", team_id: "T0SANDBOX" },
      team: { id: "T0SANDBOX" },
    });
  });

  it("postSignedToApp sends the body with a signature the receiver can check", async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const app = createServer((req, res) => {
      void readBody(req, 1024 * 1024).then((body) => {
        received.push({ headers: req.headers, body: body.toString("utf8") });
        res.writeHead(200, { "content-type": "text/plain" }).end("acked");
      });
    });
    const port = await listen(app, 0, "127.0.0.1");
    try {
      const body = interactionBody(globalShortcutPayload({ userId: "U1", callbackId: "c", triggerId: "t" }));
      const result = await postSignedToApp(`${baseUrl("127.0.0.1", port)}/slack/events`, body, {
        signingSecret: "app-secret",
        timestamp: 1795435200,
      });
      expect(result).toEqual({ status: 200, text: "acked" });
      const expected = signSlackRequest({ signingSecret: "app-secret", body, timestamp: 1795435200 });
      expect(received).toEqual([
        {
          body,
          headers: expect.objectContaining({
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": "1795435200",
            "x-slack-signature": expected["x-slack-signature"],
          }),
        },
      ]);
    } finally {
      await closeServer(app);
    }
  });
});
