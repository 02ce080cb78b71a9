import { randomBytes, randomUUID } from "node:crypto";
import { slackSettingsSchema } from "@leasehold/config";
import { postSignedToApp, type SlackSandbox, slashCommandBody, startSlackSandbox } from "@leasehold/sandbox";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BotUseCases } from "./bot-deps.js";
import { startSlackBot } from "./start-slack-bot.js";

const BOT_TOKEN = "xoxb-1111111111-2222222222-requestchecks";
const SIGNING_SECRET = randomBytes(32).toString("hex");
const ALICE = "U0ALICE01";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Nothing listens here: a Redis that is down. */
const DOWN_REDIS_URL = "redis://127.0.0.1:1";

/**
 * Requests reaching the bot over HTTP: Slack's signature, a timestamp within 5 minutes either way, and
 * each signature accepted once across all replicas. A refused request changes nothing: no use case runs.
 */
describe("the bot's HTTP endpoint checks Slack's requests before Bolt sees them", () => {
  let slack: SlackSandbox;
  const targetsListed = vi.fn((): ReturnType<BotUseCases["targets"]["list"]> => []);
  const useCases = {
    targets: { list: targetsListed },
    requests: {},
    reviews: {},
    grants: {},
  } as unknown as BotUseCases;
  const prefix = `lh-test-${randomUUID().slice(0, 8)}`;
  const bots: { address: string | undefined; close(): Promise<void> }[] = [];
  const startBot = async (redisUrl: string) => {
    const bot = await startSlackBot({
      useCases,
      settings: slackSettingsSchema.parse({ users: { [ALICE]: "alice@example.com" } }),
      connection: { mode: "http", botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      apiUrl: slack.apiUrl,
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      redis: { url: redisUrl, prefix },
    });
    bots.push(bot);
    return `${bot.address}/slack/events`;
  };
  let replica1: string;
  let replica2: string;

  beforeAll(async () => {
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: ALICE, name: "alice", email: "alice@example.com", emailConfirmed: true }],
      channels: [],
    });
    replica1 = await startBot(REDIS_URL);
    replica2 = await startBot(REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(bots.map((bot) => bot.close()));
    await slack?.close();
  });

  /** A fresh `/access` from Alice: a new trigger id, so a new body and a new signature. */
  const access = () => slashCommandBody({ command: "/access", userId: ALICE, triggerId: randomUUID() });
  const now = () => Math.floor(Date.now() / 1000);
  const post = (url: string, body: string, timestamp: number, secret = SIGNING_SECRET) =>
    postSignedToApp(url, body, { signingSecret: secret, timestamp });

  it("accepts a correctly signed, current request (the use case runs)", async () => {
    const calls = targetsListed.mock.calls.length;
    expect((await post(replica1, access(), now())).status).toBe(200);
    await vi.waitFor(() => expect(targetsListed.mock.calls.length).toBe(calls + 1));
  });

  it.each([
    ["10 minutes in the future", 600],
    ["6 minutes in the future", 360],
    ["10 minutes old", -600],
    ["6 minutes old", -360],
  ])("refuses a correctly signed request timestamped %s with 401, and changes nothing", async (_, offset) => {
    const calls = targetsListed.mock.calls.length;
    const response = await post(replica1, access(), now() + offset);
    expect(response.status).toBe(401);
    expect(targetsListed.mock.calls.length).toBe(calls);
  });

  it("refuses a request signed with another secret", async () => {
    const calls = targetsListed.mock.calls.length;
    const response = await post(replica1, access(), now(), randomBytes(32).toString("hex"));
    expect(response.status).toBe(401);
    expect(targetsListed.mock.calls.length).toBe(calls);
  });

  it("refuses a replayed request: the same signature a second time, on the same replica", async () => {
    const body = access();
    const timestamp = now();
    const before = targetsListed.mock.calls.length;
    expect((await post(replica1, body, timestamp)).status).toBe(200);
    await vi.waitFor(() => expect(targetsListed.mock.calls.length).toBe(before + 1));
    const calls = targetsListed.mock.calls.length;
    expect((await post(replica1, body, timestamp)).status).toBe(401);
    expect(targetsListed.mock.calls.length).toBe(calls);
  });

  it("refuses a replay sent to another replica: the cache is shared through Redis", async () => {
    const body = access();
    const timestamp = now();
    const before = targetsListed.mock.calls.length;
    expect((await post(replica1, body, timestamp)).status).toBe(200);
    await vi.waitFor(() => expect(targetsListed.mock.calls.length).toBe(before + 1));
    const calls = targetsListed.mock.calls.length;
    expect((await post(replica2, body, timestamp)).status).toBe(401);
    expect(targetsListed.mock.calls.length).toBe(calls);
  });

  it("refuses every request while Redis is down (503: a replay could not be ruled out), and changes nothing", async () => {
    const isolated = await startBot(DOWN_REDIS_URL);
    const calls = targetsListed.mock.calls.length;
    const response = await post(isolated, access(), now());
    expect(response.status).toBe(503);
    expect(targetsListed.mock.calls.length).toBe(calls);
  });
});
