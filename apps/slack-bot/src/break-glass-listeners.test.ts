import { randomBytes, randomUUID } from "node:crypto";
import { slackSettingsSchema } from "@leasehold/config";
import { ConflictError, ForbiddenError, type Principal } from "@leasehold/domain";
import {
  blockActionPayload,
  interactionBody,
  postSignedToApp,
  type SlackSandbox,
  startSlackSandbox,
  viewSubmissionPayload,
} from "@leasehold/sandbox";
import { BREAK_GLASS_VALUE, SLACK_IDS } from "@leasehold/slack";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { BotUseCases } from "./bot-deps.js";
import { startSlackBot } from "./start-slack-bot.js";

/*
 * The Slack edges of break-glass, over signed HTTP into the real Bolt app: the request modal's
 * break-glass option calls the break-glass use case (not a request), with the shared schema's refusals
 * shown on the modal; Mark justified / Mark unjustified on the broadcast record the review as the
 * clicker, and a refusal is an ephemeral message to the clicker only. The use cases are plain fakes of
 * the shape the bot takes; the broker's own tests cover what they decide.
 */

const BOT_TOKEN = "xoxb-1111111111-2222222222-breakglass";
const SIGNING_SECRET = randomBytes(32).toString("hex");
const DEV = "U0DEV01";
const ALICE = "U0ALICE01";
const CHANNEL = "C0ALERTS01";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("break-glass from Slack", () => {
  let slack: SlackSandbox;
  let bot: { address: string | undefined; close(): Promise<void> };
  const breakGlass = vi.fn<BotUseCases["requests"]["breakGlass"]>();
  const create = vi.fn<BotUseCases["requests"]["create"]>();
  const reviewBreakGlass = vi.fn<BotUseCases["requests"]["reviewBreakGlass"]>();
  const useCases = {
    targets: { list: () => [] },
    requests: { breakGlass, create, reviewBreakGlass },
    reviews: {},
    grants: {},
  } as unknown as BotUseCases;

  beforeAll(async () => {
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [
        { id: DEV, name: "dev", email: "dev@example.com", emailConfirmed: true },
        { id: ALICE, name: "alice", email: "alice@example.com", emailConfirmed: true },
      ],
      channels: [{ id: CHANNEL, name: "alerts", memberIds: [DEV, ALICE] }],
    });
    bot = await startSlackBot({
      useCases,
      settings: slackSettingsSchema.parse({
        users: { [DEV]: "dev@example.com", [ALICE]: "alice@example.com" },
      }),
      connection: { mode: "http", botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      apiUrl: slack.apiUrl,
      host: "127.0.0.1",
      port: 0,
      log: pino({ level: "silent" }),
      replayStore: { kind: "redis", redisUrl: REDIS_URL, prefix: `lh-test-${randomUUID().slice(0, 8)}` },
    });
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
  });
  beforeEach(() => {
    breakGlass.mockReset();
    create.mockReset();
    reviewBreakGlass.mockReset();
  });

  const send = (payload: object) =>
    postSignedToApp(`${bot.address}/slack/events`, interactionBody(payload), {
      signingSecret: SIGNING_SECRET,
    });
  const submitModal = (fields: { reason: string; breakGlass: boolean }) =>
    send(
      viewSubmissionPayload({
        userId: DEV,
        callbackId: SLACK_IDS.views.request,
        // A fresh trigger each time: an identical body in the same second would be refused as a replay.
        triggerId: slack.newTriggerId(DEV),
        values: {
          target: { target: { type: "static_select", selected_option: { value: "prod" } } },
          duration: { duration: { type: "static_select", selected_option: { value: "900" } } },
          reason: { reason: { type: "plain_text_input", value: fields.reason } },
          ticket: { ticket: { type: "plain_text_input", value: "INC-9" } },
          break_glass: {
            break_glass: {
              type: "checkboxes",
              selected_options: fields.breakGlass ? [{ value: BREAK_GLASS_VALUE }] : [],
            },
          },
        },
      }),
    );
  const click = (user: string, actionId: string, requestId: string) =>
    send(
      blockActionPayload({
        userId: user,
        actionId,
        value: requestId,
        channelId: CHANNEL,
        triggerId: slack.newTriggerId(user),
      }),
    );
  const principalOf = (mock: { mock: { calls: unknown[][] } }) =>
    (mock.mock.calls[0]?.[0] as Principal | undefined)?.id;

  it("the modal's break-glass option breaks glass instead of asking, as the person who submitted it", async () => {
    breakGlass.mockResolvedValue({} as Awaited<ReturnType<BotUseCases["requests"]["breakGlass"]>>);
    const response = await submitModal({ reason: "checkout is down", breakGlass: true });
    expect(response.status).toBe(200);
    expect(response.text).toBe("");
    expect(breakGlass).toHaveBeenCalledTimes(1);
    expect(principalOf(breakGlass)).toBe("dev@example.com");
    expect(breakGlass.mock.calls[0]?.[1]).toEqual({
      targetId: "prod",
      durationSeconds: 900,
      reason: "checkout is down",
      ticket: "INC-9",
    });
    expect(create).not.toHaveBeenCalled();
  });

  it("without the option it is an ordinary request", async () => {
    create.mockResolvedValue({} as Awaited<ReturnType<BotUseCases["requests"]["create"]>>);
    await submitModal({ reason: "checkout is down", breakGlass: false });
    expect(create).toHaveBeenCalledTimes(1);
    expect(breakGlass).not.toHaveBeenCalled();
  });

  it("a break-glass with no reason is refused on the modal, and nothing is called", async () => {
    const response = await submitModal({ reason: "", breakGlass: true });
    expect(JSON.parse(response.text)).toMatchObject({
      response_action: "errors",
      errors: { reason: expect.stringMatching(/reason must be at least/) },
    });
    expect(breakGlass).not.toHaveBeenCalled();
  });

  it("a break-glass the broker refuses shows why beside the option", async () => {
    breakGlass.mockRejectedValue(
      new ConflictError(
        "your break-glass on prod (x) has not been reviewed yet; an approver of prod must mark it",
      ),
    );
    const response = await submitModal({ reason: "checkout is down", breakGlass: true });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({
      response_action: "errors",
      errors: { break_glass: expect.stringMatching(/has not been reviewed yet/) },
    });
  });

  it.each([
    ["Mark justified", SLACK_IDS.actions.breakGlassJustified, "justified"],
    ["Mark unjustified", SLACK_IDS.actions.breakGlassUnjustified, "unjustified"],
  ])("%s records the review as the clicker", async (_name, actionId, verdict) => {
    reviewBreakGlass.mockResolvedValue(
      {} as Awaited<ReturnType<BotUseCases["requests"]["reviewBreakGlass"]>>,
    );
    const requestId = randomUUID();
    expect((await click(ALICE, actionId, requestId)).status).toBe(200);
    await vi.waitFor(() => expect(reviewBreakGlass).toHaveBeenCalledTimes(1));
    expect(principalOf(reviewBreakGlass)).toBe("alice@example.com");
    expect(reviewBreakGlass.mock.calls[0]?.[1]).toEqual({ requestId, verdict });
  });

  it("a refused review is told to the clicker alone", async () => {
    reviewBreakGlass.mockRejectedValue(new ForbiddenError("you cannot review your own break-glass"));
    await click(DEV, SLACK_IDS.actions.breakGlassJustified, randomUUID());
    await vi.waitFor(() =>
      expect(
        slack.ephemerals.find((e) => e.user === DEV && /your own break-glass/.test(e.text)),
      ).toBeDefined(),
    );
    expect(slack.ephemerals.filter((e) => e.user === ALICE && /your own break-glass/.test(e.text))).toEqual(
      [],
    );
  });
});
