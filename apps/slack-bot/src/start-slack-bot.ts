import type { AddressInfo } from "node:net";
import { type SlackSettings, slackSettingsSchema } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import { createSlackClient, createSlackIdentity } from "@leasehold/slack";
import type { Logger } from "pino";
import type { BotUseCases } from "./bot-deps.js";
import type { SlackConnection } from "./env.js";
import { createSlackApp } from "./slack-app.js";

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
}): Promise<{ address: string | undefined; close(): Promise<void> }> {
  const { connection, log } = options;
  const settings = options.settings ?? slackSettingsSchema.parse({});
  const identityClient = createSlackClient({ token: connection.botToken, apiUrl: options.apiUrl });
  const app = createSlackApp(connection, {
    broker: options.useCases,
    identity: createSlackIdentity(settings, identityClient),
    clock: systemClock,
    log,
    pino: log,
    apiUrl: options.apiUrl,
  });
  try {
    // Checks the bot token with Slack (auth.test).
    await app.init();
  } catch (error) {
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
  const server = await app.start({ port: options.port, host: options.host });
  const { port } = server.address() as AddressInfo;
  const address = `http://${options.host}:${port}`;
  log.info({ mode: "http", address }, "leasehold slack bot listening");
  return { address, close: () => app.stop().then(() => undefined) };
}
