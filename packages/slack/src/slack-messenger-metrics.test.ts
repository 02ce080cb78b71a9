import type { Metrics, SlackDeliveryOutcome } from "@leasehold/domain";
import { type SlackSandbox, startSlackSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackClient } from "./slack-client.js";
import type { SlackIdentity } from "./slack-identity.js";
import { createSlackMessenger } from "./slack-messenger.js";

/** Each Web API call's outcome is counted: the real WebClient against the Slack stand-in. */
const BOT_TOKEN = "xoxb-1111111111-leasehold-test";
const CHANNEL = "C1ALERTS";

describe("Slack deliveries, counted", () => {
  let slack: SlackSandbox;
  beforeAll(async () => {
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [],
      channels: [{ id: CHANNEL, name: "alerts" }],
      rateLimitPerChannelPerSecond: 1,
      // A clock that stands still: every post is in the same second, whatever the machine's load.
      clock: () => new Date("2026-12-01T10:00:00.000Z"),
    });
  });
  afterAll(() => slack?.close());

  it("counts a delivery, a 429 and a refusal each under its own outcome", async () => {
    const outcomes: SlackDeliveryOutcome[] = [];
    const metrics = { slackDelivery: (outcome: SlackDeliveryOutcome) => outcomes.push(outcome) } as Pick<
      Metrics,
      "slackDelivery"
    > as Metrics;
    const identity: SlackIdentity = {
      principalFor: () => Promise.reject(new Error("not used")),
      slackUserFor: async () => undefined,
    };
    const messenger = createSlackMessenger({
      client: createSlackClient({ token: BOT_TOKEN, apiUrl: slack.apiUrl }),
      identity,
      metrics,
    });
    const alert = {
      kind: "rotation-failed",
      rotationId: "orders-app",
      step: "test",
      error: "x",
      rolledBack: true,
    } as const;
    await messenger.alert(CHANNEL, alert);
    // The same channel again in the same second: Slack answers 429.
    await expect(messenger.alert(CHANNEL, alert)).rejects.toThrow(/rate limited/);
    await expect(messenger.alert("C0NOSUCHCHANNEL", alert)).rejects.toThrow(/channel_not_found/);
    expect(outcomes).toEqual(["delivered", "rate_limited", "failed"]);
  });
});
