import {
  ErrorCode,
  type Logger,
  LogLevel,
  WebAPIRateLimitedError,
  WebClient,
  type WebClientOptions,
} from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSlackSandbox } from "./slack-sandbox.js";
import type { SlackSandbox } from "./slack-sandbox-types.js";

const BOT_TOKEN = "xoxb-sandbox-faults";

const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const client = (sandbox: SlackSandbox, options: WebClientOptions = {}) =>
  new WebClient(BOT_TOKEN, {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quietLogger,
    ...options,
  });

const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (reason: unknown) => reason,
  );

const outcomes = (sandbox: SlackSandbox) =>
  sandbox.calls.map(
    (call) => `${call.method} ${call.status}${call.error === undefined ? "" : ` ${call.error}`}`,
  );

describe("Slack stand-in: chat.postMessage rate limit", () => {
  let sandbox: SlackSandbox;
  const clock = { now: new Date("2026-11-23T12:00:00Z") };
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "alice" }],
      channels: [
        { id: "C1APPROVALS", name: "approvals" },
        { id: "C2AUDIT", name: "audit" },
      ],
      clock: () => clock.now,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("a second message in the same channel within a second is HTTP 429 with Retry-After: 1", async () => {
    const slack = client(sandbox);
    await slack.chat.postMessage({ channel: "C1APPROVALS", text: "one" });
    advance(999);
    const error = await failure(slack.chat.postMessage({ channel: "C1APPROVALS", text: "two" }));
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    expect(outcomes(sandbox)).toEqual(["chat.postMessage 200", "chat.postMessage 429 ratelimited"]);
    expect(sandbox.messages("C1APPROVALS")).toHaveLength(1);

    const response = await fetch(`${sandbox.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${BOT_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      body: "channel=C1APPROVALS&text=three",
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({ ok: false, error: "ratelimited" });
  });

  it("the limit is per channel and per second of the sandbox clock", async () => {
    const slack = client(sandbox);
    await slack.chat.postMessage({ channel: "C1APPROVALS", text: "one" });
    await slack.chat.postMessage({ channel: "C2AUDIT", text: "other channel" });
    await slack.chat.postMessage({ channel: "U1ALICE", text: "a DM is a channel too" });
    advance(1000);
    await slack.chat.postMessage({ channel: "C1APPROVALS", text: "a second later" });
    expect(sandbox.messages("C1APPROVALS")).toHaveLength(2);
  });

  it("WebClient's own retry waits out Retry-After and then succeeds", async () => {
    const slack = client(sandbox, {
      rejectRateLimitedCalls: false,
      retryConfig: { retries: 1, minTimeout: 0 },
    });
    sandbox.injectFault({ method: "chat.postMessage", kind: "ratelimit", retryAfterSeconds: 0, times: 1 });
    await slack.chat.postMessage({ channel: "C2AUDIT", text: "eventually" });
    expect(outcomes(sandbox)).toEqual(["chat.postMessage 429 ratelimited", "chat.postMessage 200"]);
  });

  it("rateLimitPerChannelPerSecond sets the limit, and 0 disables it", async () => {
    for (const [limit, accepted] of [
      [3, 3],
      [0, 5],
    ] as const) {
      const limited = await startSlackSandbox({
        botToken: BOT_TOKEN,
        users: [],
        channels: [{ id: "C1APPROVALS", name: "approvals" }],
        clock: () => clock.now,
        rateLimitPerChannelPerSecond: limit,
      });
      const slack = client(limited);
      for (let i = 0; i < 5; i += 1) {
        await slack.chat.postMessage({ channel: "C1APPROVALS", text: `m${i}` }).catch(() => undefined);
      }
      expect(limited.messages("C1APPROVALS")).toHaveLength(accepted);
      await limited.close();
    }
  });
});

describe("Slack stand-in: injected faults", () => {
  let sandbox: SlackSandbox;
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "alice" }],
      channels: [{ id: "C1APPROVALS", name: "approvals" }],
      rateLimitPerChannelPerSecond: 0,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("error: the next `times` calls answer ok:false with that code and have no effect", async () => {
    sandbox.injectFault({ method: "chat.postMessage", kind: "error", error: "fatal_error", times: 2 });
    const slack = client(sandbox);
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(slack.chat.postMessage({ channel: "C1APPROVALS", text: "x" }));
      expect(error).toMatchObject({
        code: ErrorCode.PlatformError,
        data: { ok: false, error: "fatal_error" },
      });
    }
    await slack.chat.postMessage({ channel: "C1APPROVALS", text: "third time" });
    expect(sandbox.messages("C1APPROVALS").map((m) => m.text)).toEqual(["third time"]);
  });

  it("ratelimit: HTTP 429 with the given Retry-After, surfaced as a rate-limited error", async () => {
    sandbox.injectFault({ method: "views.publish", kind: "ratelimit", retryAfterSeconds: 30, times: 1 });
    const error = await failure(
      client(sandbox).views.publish({ user_id: "U1ALICE", view: { type: "home", blocks: [] } }),
    );
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(sandbox.views).toEqual([]);
  });

  it("delay: the call takes effect, but a client that times out never hears so", async () => {
    sandbox.injectFault({ method: "chat.postMessage", kind: "delay", ms: 500, times: 1 });
    const error = await failure(
      client(sandbox, { timeout: 50 }).chat.postMessage({ channel: "C1APPROVALS", text: "slow" }),
    );
    expect(error).toMatchObject({ code: ErrorCode.RequestError });
    // The message exists: a retry by the caller would post a duplicate.
    expect(sandbox.messages("C1APPROVALS").map((m) => m.text)).toEqual(["slow"]);
  });

  it("delay: a patient client gets the answer late", async () => {
    sandbox.injectFault({ method: "auth.test", kind: "delay", ms: 150, times: 1 });
    const started = performance.now();
    await client(sandbox).auth.test();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("http500: HTTP 500 with a non-JSON body, surfaced as an HTTP error", async () => {
    sandbox.injectFault({ method: "users.info", kind: "http500", times: 1 });
    const error = await failure(client(sandbox).users.info({ user: "U1ALICE" }));
    expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(outcomes(sandbox)).toEqual(["users.info 500 http500"]);
    await client(sandbox).users.info({ user: "U1ALICE" });
  });

  it("a fault hits only its own method, and only after authentication", async () => {
    sandbox.injectFault({ method: "chat.update", kind: "error", error: "internal_error", times: 1 });
    await client(sandbox).chat.postMessage({ channel: "C1APPROVALS", text: "x" });
    const unauthenticated = new WebClient("xoxb-wrong", {
      slackApiUrl: sandbox.apiUrl,
      retryConfig: { retries: 0 },
      logger: quietLogger,
    });
    await unauthenticated.chat
      .update({ channel: "C1APPROVALS", ts: "1.1", text: "y" })
      .catch(() => undefined);
    await client(sandbox)
      .chat.update({ channel: "C1APPROVALS", ts: "1.1", text: "y" })
      .catch(() => undefined);
    expect(outcomes(sandbox)).toEqual([
      "chat.postMessage 200",
      "chat.update 200 invalid_auth",
      "chat.update 200 internal_error",
    ]);
  });

  it("reset() clears pending faults; a fault that would never fire is refused", async () => {
    sandbox.injectFault({ method: "auth.test", kind: "error", error: "fatal_error", times: 1 });
    sandbox.reset();
    await client(sandbox).auth.test();
    expect(() => sandbox.injectFault({ method: "auth.test", kind: "http500", times: 0 })).toThrow();
  });
});
