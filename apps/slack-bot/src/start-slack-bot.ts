import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type SlackSettings, slackSettingsSchema } from "@leasehold/config";
import type { Database } from "@leasehold/db";
import { systemClock } from "@leasehold/domain";
import { createSlackClient, createSlackIdentity } from "@leasehold/slack";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BotUseCases } from "./bot-deps.js";
import type { SlackConnection } from "./env.js";
import { postgresReplayCache } from "./postgres-replay-cache.js";
import { createSlackApp } from "./slack-app.js";
import { type ReplayCache, redisReplayCache } from "./slack-request-check.js";

/** Where the replay cache lives, the queues' backend: Redis by URL and key prefix, or the caller's database. */
export type ReplayStore =
  | { readonly kind: "redis"; readonly redisUrl: string; readonly prefix: string }
  | { readonly kind: "postgres"; readonly database: Database };

/** A request waits for the replay cache at most this long: Slack wants an answer within 3 s. */
const REPLAY_TIMEOUT_MS = 1_000;

/**
 * The replay cache's connection. A request waits at most REPLAY_TIMEOUT_MS and is not retried across
 * reconnects: while the cache is down every request is refused (503) rather than accepted unchecked.
 * The database is the caller's and stays open.
 */
function connectReplayCache(store: ReplayStore, log: Logger): { cache: ReplayCache; close(): void } {
  if (store.kind === "postgres") {
    return { cache: postgresReplayCache(store.database, { timeoutMs: REPLAY_TIMEOUT_MS }), close: () => {} };
  }
  const client = new Redis(store.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: REPLAY_TIMEOUT_MS });
  // Reconnection is ioredis's own; each refused request logs why, so connection errors go to debug.
  client.on("error", (error: Error) => log.debug({ err: error }, "slack replay cache: redis error"));
  const cache: ReplayCache = redisReplayCache(client, store.prefix);
  return { cache, close: () => client.disconnect() };
}

/** Starts the bot over the use cases it calls; used by main.ts and by local mode. */
export async function startSlackBot(options: {
  useCases: BotUseCases;
  /** leasehold.yaml's `slack` block, when it has one. */
  settings: SlackSettings | undefined;
  connection: SlackConnection;
  apiUrl: string | undefined;
  host: string;
  port: number;
  log: Logger;
  /**
   * The replay cache over HTTP: Redis (REDIS_URL, keys under LEASEHOLD_QUEUE_PREFIX) or PostgreSQL.
   */
  replayStore: ReplayStore;
  /** The console's address (leasehold.yaml's `publicUrl`): approvals that need step-up link there. */
  consoleUrl?: string | undefined;
}): Promise<{ address: string | undefined; close(): Promise<void> }> {
  const { connection, log } = options;
  const replay = connection.mode === "http" ? connectReplayCache(options.replayStore, log) : undefined;
  const settings = options.settings ?? slackSettingsSchema.parse({});
  const identityClient = createSlackClient({ token: connection.botToken, apiUrl: options.apiUrl });
  const app = createSlackApp(connection, {
    broker: options.useCases,
    identity: createSlackIdentity(settings, identityClient),
    clock: systemClock,
    log,
    pino: log,
    apiUrl: options.apiUrl,
    replay: replay?.cache,
    consoleUrl: options.consoleUrl,
  });
  try {
    // Checks the bot token with Slack (auth.test).
    await app.init();
  } catch (error) {
    replay?.close();
    const code =
      (error as { data?: { error?: string }; code?: string }).data?.error ??
      (error as { code?: string }).code;
    throw new Error(
      `the Slack bot could not start: Slack refused or could not be reached (${code ?? "unknown error"})`,
    );
  }
  if (connection.mode === "socket") {
    await app.start();
    log.info({ mode: "socket" }, "leasehold slack bot connected");
    return { address: undefined, close: () => app.stop().then(() => undefined) };
  }
  const server = (await app.start({ port: options.port, host: options.host })) as Server;
  const { port } = server.address() as AddressInfo;
  const address = `http://${options.host}:${port}`;
  log.info({ mode: "http", address }, "leasehold slack bot listening");
  return {
    address,
    close: async () => {
      await app.stop();
      replay?.close();
    },
  };
}
