import { randomBytes, randomUUID } from "node:crypto";
import { slackSettingsSchema } from "@leasehold/config";
import { type Database, openPostgres } from "@leasehold/db";
import { createPostgresDatabase } from "@leasehold/db/testing";
import { postSignedToApp, type SlackSandbox, slashCommandBody, startSlackSandbox } from "@leasehold/sandbox";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BotUseCases } from "./bot-deps.js";
import { type ReplayStore, startSlackBot } from "./start-slack-bot.js";

const BOT_TOKEN = "xoxb-1111111111-2222222222-requestchecks";
const SIGNING_SECRET = randomBytes(32).toString("hex");
const ALICE = "U0ALICE01";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Nothing listens on port 1: a store that is down. */
const DOWN_REDIS_URL = "redis://127.0.0.1:1";
const DOWN_POSTGRES_URL = "postgres://postgres@127.0.0.1:1/leasehold";
const STORES = ["redis", "postgres"] as const;

/**
 * Requests reaching the bot over HTTP: Slack's signature, a timestamp within 5 minutes either way, and
 * each signature accepted once across all replicas, whose replay cache is Redis or PostgreSQL. A
 * refused request changes nothing: no use case runs.
 */
describe.each(STORES)(
  "the bot's HTTP endpoint, its replay cache in %s, checks Slack's requests before Bolt sees them",
  (kind) => {
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
    /** The PostgreSQL replay cache's database, and each replica's pool on it. */
    let database: (Database & { url: string }) | undefined;
    const pools: Database[] = [];
    /** One replica's way to the shared replay cache: a Redis client (the bot's own), or a pool of its own. */
    const replayStore = (down: boolean): ReplayStore => {
      if (kind === "redis") return { kind, redisUrl: down ? DOWN_REDIS_URL : REDIS_URL, prefix };
      if (!database) throw new Error("no database");
      const pool = openPostgres(down ? DOWN_POSTGRES_URL : database.url, { maxConnections: 2 });
      pools.push(pool);
      return { kind, database: pool };
    };
    const startBot = async (down = false, previousSigningSecret?: string) => {
      const bot = await startSlackBot({
        useCases,
        settings: slackSettingsSchema.parse({ users: { [ALICE]: "alice@example.com" } }),
        connection: {
          mode: "http",
          botToken: BOT_TOKEN,
          signingSecret: SIGNING_SECRET,
          previousSigningSecret,
        },
        apiUrl: slack.apiUrl,
        host: "127.0.0.1",
        port: 0,
        log: pino({ level: "silent" }),
        replayStore: replayStore(down),
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
      if (kind === "postgres") database = await createPostgresDatabase();
      replica1 = await startBot();
      replica2 = await startBot();
    });
    afterAll(async () => {
      await Promise.all(bots.map((bot) => bot.close()));
      await Promise.all(pools.map((pool) => pool.close()));
      await database?.close();
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
    ])(
      "refuses a correctly signed request timestamped %s with 401, and changes nothing",
      async (_, offset) => {
        const calls = targetsListed.mock.calls.length;
        const response = await post(replica1, access(), now() + offset);
        expect(response.status).toBe(401);
        expect(targetsListed.mock.calls.length).toBe(calls);
      },
    );

    it("refuses a request signed with another secret", async () => {
      const calls = targetsListed.mock.calls.length;
      const response = await post(replica1, access(), now(), randomBytes(32).toString("hex"));
      expect(response.status).toBe(401);
      expect(targetsListed.mock.calls.length).toBe(calls);
    });

    it("while switching signing secrets, accepts the previous one as well (Bolt runs the use case) and no other", async () => {
      const previous = randomBytes(32).toString("hex");
      const switching = await startBot(false, previous);
      const before = targetsListed.mock.calls.length;
      expect((await post(switching, access(), now(), previous)).status).toBe(200);
      expect((await post(switching, access(), now())).status).toBe(200);
      await vi.waitFor(() => expect(targetsListed.mock.calls.length).toBe(before + 2));
      const calls = targetsListed.mock.calls.length;
      expect((await post(switching, access(), now(), randomBytes(32).toString("hex"))).status).toBe(401);
      // A replica without it (the switch is over there) refuses the previous secret.
      expect((await post(replica1, access(), now(), previous)).status).toBe(401);
      expect(targetsListed.mock.calls.length).toBe(calls);
    });

    it.each([
      ["the same signature a second time, on the same replica", () => replica1],
      ["sent to another replica: the cache is shared", () => replica2],
    ])("refuses a replayed request: %s", async (_how, replayedOn) => {
      const body = access();
      const timestamp = now();
      const before = targetsListed.mock.calls.length;
      expect((await post(replica1, body, timestamp)).status).toBe(200);
      await vi.waitFor(() => expect(targetsListed.mock.calls.length).toBe(before + 1));
      const calls = targetsListed.mock.calls.length;
      expect((await post(replayedOn(), body, timestamp)).status).toBe(401);
      expect(targetsListed.mock.calls.length).toBe(calls);
    });

    it("refuses every request while the replay cache is down (503: a replay could not be ruled out), and changes nothing", async () => {
      const isolated = await startBot(true);
      const calls = targetsListed.mock.calls.length;
      const response = await post(isolated, access(), now());
      expect(response.status).toBe(503);
      expect(targetsListed.mock.calls.length).toBe(calls);
    });
  },
);
