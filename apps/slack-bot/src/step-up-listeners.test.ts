import { randomBytes, randomUUID } from "node:crypto";
import { slackSettingsSchema } from "@leasehold/config";
import {
  type Principal,
  type ReviewInput,
  type StepUp,
  StepUpRequiredError,
  stepUpProblem,
} from "@leasehold/domain";
import {
  blockActionPayload,
  interactionBody,
  postSignedToApp,
  type SlackSandbox,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { SLACK_IDS } from "@leasehold/slack";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { BotUseCases } from "./bot-deps.js";
import { startSlackBot } from "./start-slack-bot.js";

/*
 * Step-up from Slack, over signed HTTP into the real Bolt app: the bot's principals say they come from
 * Slack, and an Approve (or Mark justified) click on a target with `stepUp` approves nothing: the
 * clicker alone is told to approve in the console, with a link to the request there. The use cases
 * stand in for the broker and decide step-up with the domain's own rule (the broker's tests show the
 * broker refuses such a click before recording anything).
 */

const BOT_TOKEN = "xoxb-1111111111-2222222222-stepup";
const SIGNING_SECRET = randomBytes(32).toString("hex");
const ALICE = "U0ALICE01";
const BOB = "U0BOB01";
const CHANNEL = "C0APPROVALS01";
const CONSOLE_URL = "https://leasehold.example.com/";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const STEP_UP: StepUp = { maxAge: 300 };

describe("step-up from Slack", () => {
  let slack: SlackSandbox;
  let bot: { address: string | undefined; close(): Promise<void> };
  /** The requests whose target asks for step-up; approvals the stand-in recorded. */
  const guarded = new Set<string>();
  const approved: { requestId: string; by: string }[] = [];
  /** Decides like the broker: an approval on a guarded request needs what a Slack click never is. */
  const stepUpFor = (principal: Principal, requestId: string) => {
    if (!guarded.has(requestId)) return;
    const problem = stepUpProblem(STEP_UP, principal.authentication, new Date());
    if (problem) throw new StepUpRequiredError("prod-guarded", problem);
  };
  const submit = vi.fn(async (principal: Principal, input: ReviewInput) => {
    stepUpFor(principal, input.requestId);
    approved.push({ requestId: input.requestId, by: principal.id });
    return {} as Awaited<ReturnType<BotUseCases["reviews"]["submit"]>>;
  });
  const reviewBreakGlass = vi.fn(async (principal: Principal, input: { requestId: string }) => {
    stepUpFor(principal, input.requestId);
    approved.push({ requestId: input.requestId, by: principal.id });
    return {} as Awaited<ReturnType<BotUseCases["requests"]["reviewBreakGlass"]>>;
  });
  const useCases = {
    targets: { list: () => [] },
    requests: { reviewBreakGlass },
    reviews: { submit },
    grants: {},
  } as unknown as BotUseCases;

  beforeAll(async () => {
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [
        { id: ALICE, name: "alice", email: "alice@example.com", emailConfirmed: true },
        { id: BOB, name: "bob", email: "bob@example.com", emailConfirmed: true },
      ],
      channels: [{ id: CHANNEL, name: "approvals", memberIds: [ALICE, BOB] }],
    });
    bot = await startSlackBot({
      useCases,
      settings: slackSettingsSchema.parse({
        users: { [ALICE]: "alice@example.com", [BOB]: "bob@example.com" },
      }),
      connection: { mode: "http", botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      apiUrl: slack.apiUrl,
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      replayStore: { kind: "redis", redisUrl: REDIS_URL, prefix: `lh-test-${randomUUID().slice(0, 8)}` },
      consoleUrl: CONSOLE_URL,
    });
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
  });
  beforeEach(() => {
    submit.mockClear();
    reviewBreakGlass.mockClear();
    approved.length = 0;
  });

  const click = (user: string, actionId: string, requestId: string) =>
    postSignedToApp(
      `${bot.address}/slack/events`,
      interactionBody(
        blockActionPayload({
          userId: user,
          actionId,
          value: requestId,
          channelId: CHANNEL,
          triggerId: slack.newTriggerId(user),
        }),
      ),
      { signingSecret: SIGNING_SECRET },
    );
  const toldTo = (user: string, requestId: string) =>
    slack.ephemerals.filter((e) => e.user === user && e.text.includes(requestId));

  it("an Approve click on a step-up target approves nothing and links the clicker alone to the console", async () => {
    const requestId = randomUUID();
    guarded.add(requestId);
    expect((await click(ALICE, SLACK_IDS.actions.approve, requestId)).status).toBe(200);
    await vi.waitFor(() => expect(toldTo(ALICE, requestId)).toHaveLength(1));
    const [told] = toldTo(ALICE, requestId);
    expect(told?.channel).toBe(CHANNEL);
    expect(told?.text).toContain(`<https://leasehold.example.com/approvals?request=${requestId}|`);
    expect(told?.text).toMatch(/prod-guarded needs a fresh sign-in.*approve in the console/);
    // The bot asked as a Slack user, which step-up never accepts; nothing was approved.
    expect(submit.mock.calls[0]?.[0].authentication).toEqual({ method: "slack" });
    expect(approved).toEqual([]);
    expect(toldTo(BOB, requestId)).toEqual([]);
  });

  it("Mark justified on a step-up break-glass is sent to the console the same way", async () => {
    const requestId = randomUUID();
    guarded.add(requestId);
    await click(BOB, SLACK_IDS.actions.breakGlassJustified, requestId);
    await vi.waitFor(() => expect(toldTo(BOB, requestId)).toHaveLength(1));
    expect(toldTo(BOB, requestId)[0]?.text).toContain(`/approvals?request=${requestId}|`);
    expect(approved).toEqual([]);
  });

  it("an Approve click on a target without step-up approves as before, as the clicker", async () => {
    const requestId = randomUUID();
    await click(ALICE, SLACK_IDS.actions.approve, requestId);
    await vi.waitFor(() => expect(approved).toEqual([{ requestId, by: "alice@example.com" }]));
    expect(toldTo(ALICE, requestId)).toEqual([]);
  });
});
