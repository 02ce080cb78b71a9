import { randomBytes, randomUUID } from "node:crypto";
import { slackSettingsSchema } from "@leasehold/config";
import { postSignedToApp, type SlackSandbox, slashCommandBody, startSlackSandbox } from "@leasehold/sandbox";
import { type RunningTracing, startTracingWith, withSpan } from "@leasehold/tracing";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BotUseCases } from "./bot-deps.js";
import { startSlackBot } from "./start-slack-bot.js";

const BOT_TOKEN = "xoxb-1111111111-2222222222-tracedinteractions";
const SIGNING_SECRET = randomBytes(32).toString("hex");
const ALICE = "U0ALICE01";

describe("Slack interactions are traced", () => {
  const spans = new InMemorySpanExporter();
  let tracing: RunningTracing;
  let slack: SlackSandbox;
  let bot: { address: string | undefined; close(): Promise<void> };
  // The use case the command calls: its own span must be a child of the interaction's.
  const targetsListed = vi.fn(() => {
    void withSpan("use case", {}, async () => undefined);
    return [];
  });

  beforeAll(async () => {
    tracing = startTracingWith({ serviceName: "leasehold-test", exporter: spans, batch: false });
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: ALICE, name: "alice", email: "alice@example.com", emailConfirmed: true }],
      channels: [],
    });
    bot = await startSlackBot({
      useCases: {
        targets: { list: targetsListed },
        requests: {},
        reviews: {},
        grants: {},
      } as unknown as BotUseCases,
      settings: slackSettingsSchema.parse({ users: { [ALICE]: "alice@example.com" } }),
      connection: { mode: "http", botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      apiUrl: slack.apiUrl,
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      replayStore: {
        kind: "redis",
        redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        prefix: `lh-test-${randomUUID().slice(0, 8)}`,
      },
    });
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
    await tracing?.stop();
  });

  it("a slash command is one span, named by kind and command, with the use case inside; nobody's id or token", async () => {
    const body = slashCommandBody({ command: "/access", userId: ALICE, triggerId: randomUUID() });
    const response = await postSignedToApp(`${bot.address}/slack/events`, body, {
      signingSecret: SIGNING_SECRET,
    });
    expect(response.status).toBe(200);
    await vi.waitFor(async () => {
      await tracing.flush();
      expect(spans.getFinishedSpans().map((s) => s.name)).toContain("slack command");
    });
    const finished = spans.getFinishedSpans();
    const command = finished.find((s) => s.name === "slack command");
    const useCase = finished.find((s) => s.name === "use case");
    expect(command?.attributes).toEqual({
      "leasehold.slack.type": "command",
      "leasehold.slack.action": "/access",
      "leasehold.outcome": "ok",
    });
    expect(useCase?.parentSpanContext?.spanId).toBe(command?.spanContext().spanId);
    const seen = JSON.stringify(finished.map((s) => [s.name, s.attributes, s.events]));
    for (const secret of [ALICE, "alice@example.com", BOT_TOKEN, SIGNING_SECRET])
      expect(seen).not.toContain(secret);
  });
});
