import type { Broker } from "@leasehold/broker";
import { targetConfigSchema } from "@leasehold/config";
import type { SlackSandbox } from "@leasehold/sandbox";
import { SLACK_IDS } from "@leasehold/slack";
import { afterEach, describe, expect, it } from "vitest";
import { type NotificationStack, person, startNotificationStack, textOf } from "./test-notification-stack.js";

/*
 * What a break-glass says, and to whom: its `request.break_glass` event, delivered through the real
 * Slack messenger and WebClient to the Slack stand-in, is posted to the alerts channel and to the
 * target's approvers' channel (with Mark justified / Mark unjustified), and DM'd to the approvers the
 * target names, never the person who broke the glass; the review rewrites both posts in place.
 */

const APPROVERS = "C0APPROVE";
const ALERTS = "C0ALERTS";
const dev = person("dev@example.com", ["eng", "oncall"]);
const boss = person("boss@example.com", []);
const cto = person("cto@example.com", []);

const target = targetConfigSchema.parse({
  id: "prod",
  kind: "aws-role",
  description: "production admin",
  requesters: { groups: ["eng"] },
  // The requester is named too, and is never told about their own break-glass.
  approvers: { users: [boss.id, cto.id, dev.id], groups: ["sre"] },
  maxDuration: "2h",
  breakGlass: { allowed: { groups: ["oncall"] } },
  slack: { approversChannel: APPROVERS },
  aws: { roleArn: "arn:aws:iam::123456789012:role/Prod" },
});

describe("break-glass broadcast through the Slack stand-in", () => {
  let stack: NotificationStack;
  let slack: SlackSandbox;
  let broker: Broker;

  /** The stand-in, the broker and the notification service, with or without an alerts channel. */
  const start = async (alertsChannel: string | undefined) => {
    stack = await startNotificationStack({
      targets: [target],
      slackUsers: [
        { id: "U0DEV", name: "dev", email: dev.id },
        { id: "U0BOSS", name: "boss", email: boss.id },
        { id: "U0CTO", name: "cto", email: cto.id },
      ],
      channels: [
        { id: APPROVERS, name: "approvals" },
        { id: ALERTS, name: "security-alerts" },
      ],
      ...(alertsChannel === undefined ? {} : { alertsChannel }),
    });
    ({ slack, broker } = stack);
    return stack.notifications;
  };

  afterEach(async () => {
    await stack.close();
  });

  const notify = () => stack.notify();
  const dms = (userId: string) => stack.dms(userId);
  const breakGlass = () =>
    broker.requests.breakGlass(dev, {
      targetId: "prod",
      durationSeconds: 1800,
      reason: "checkout is down <!channel>",
      ticket: "INC-9",
    });

  it("posts to the alerts and approvers' channels with review buttons, DMs the named approvers, and shows the review in place", async () => {
    await start(ALERTS);
    const { request } = await breakGlass();
    await notify();
    for (const channel of [ALERTS, APPROVERS]) {
      const posts = slack.messages(channel);
      expect(posts).toHaveLength(1);
      const text = textOf(posts[0]);
      expect(text).toContain("Break-glass: prod");
      expect(text).toContain("dev@example.com");
      expect(text).toContain("30m");
      expect(text).toContain("INC-9");
      // The reason is shown, escaped: it cannot ping the channel.
      expect(text).toContain("checkout is down &lt;!channel&gt;");
      expect(text).not.toContain("<!channel>");
      expect(text).toContain(SLACK_IDS.actions.breakGlassJustified);
      expect(text).toContain(SLACK_IDS.actions.breakGlassUnjustified);
      expect(text).toContain("Review needed");
    }
    for (const user of ["U0BOSS", "U0CTO"]) {
      expect(dms(user)).toHaveLength(1);
      expect(textOf(dms(user)[0])).toContain("Break-glass");
      expect(textOf(dms(user)[0])).toContain(`leasehold break-glass review ${request.id}`);
      expect(textOf(dms(user)[0])).toContain(`<#${ALERTS}>`);
    }
    expect(dms("U0DEV").filter((m) => textOf(m).includes("Break-glass"))).toEqual([]);

    await broker.requests.reviewBreakGlass(boss, {
      requestId: request.id,
      verdict: "justified",
      comment: "paged and confirmed",
    });
    await notify();
    for (const channel of [ALERTS, APPROVERS]) {
      const posts = slack.messages(channel);
      expect(posts).toHaveLength(1);
      expect(textOf(posts[0])).toContain("Marked *justified* by boss@example.com");
      expect(textOf(posts[0])).toContain("paged and confirmed");
      expect(textOf(posts[0])).not.toContain('"action_id"');
    }
    // The review is not a new page.
    expect(dms("U0BOSS")).toHaveLength(1);
  });

  it("a repeated delivery posts nothing twice", async () => {
    const notifications = await start(ALERTS);
    await breakGlass();
    await notifications.dispatch();
    const seqs = stack.queued.splice(0);
    for (const seq of seqs) await notifications.deliver(seq);
    for (const seq of seqs) await notifications.deliver(seq);
    expect(slack.messages(ALERTS)).toHaveLength(1);
    expect(slack.messages(APPROVERS)).toHaveLength(1);
  });

  it("without an alerts channel, the target's approvers' channel still gets it", async () => {
    await start(undefined);
    await breakGlass();
    await notify();
    expect(slack.messages(APPROVERS)).toHaveLength(1);
    expect(textOf(slack.messages(APPROVERS)[0])).toContain("Break-glass: prod");
    expect(slack.messages(ALERTS)).toHaveLength(0);
  });
});
