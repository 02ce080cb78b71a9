import type { Broker, NotificationService } from "@leasehold/broker";
import { targetConfigSchema } from "@leasehold/config";
import type { SlackSandbox } from "@leasehold/sandbox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NotificationStack, person, startNotificationStack, textOf } from "./test-notification-stack.js";

/*
 * What an escalation says, and to whom: the sweep's `request.escalated` event, delivered through the
 * real Slack messenger and WebClient to the Slack stand-in, re-posts the request to the level's channel
 * (the target's own when the level names none) and DMs the level's named approvers, never the
 * requester. Deliveries are run by hand here, in audit order, as the notify queue would run them.
 */

const APPROVERS = "C0APPROVE";
const LEADS = "C0LEADS";
const dev = person("dev@example.com", ["eng"]);
const boss = person("boss@example.com", []);
const cto = person("cto@example.com", []);

const target = targetConfigSchema.parse({
  id: "prod",
  kind: "aws-role",
  requesters: { groups: ["eng"] },
  approvers: { groups: ["sre"] },
  maxDuration: "1h",
  pendingTtl: "4h",
  slack: { approversChannel: APPROVERS },
  escalateAfter: "30m",
  escalation: [
    { approvers: { users: [boss.id], groups: ["sre-leads"] }, slackChannel: LEADS },
    // No channel of its own: re-posted to the approvers' channel. The requester is listed, and skipped.
    { approvers: { users: [cto.id, dev.id] } },
  ],
  aws: { roleArn: "arn:aws:iam::123456789012:role/Prod" },
});

describe("escalation notices through the Slack stand-in", () => {
  let stack: NotificationStack;
  let slack: SlackSandbox;
  let broker: Broker;
  let notifications: NotificationService;
  let queued: number[];
  let now: Date;

  beforeEach(async () => {
    now = new Date();
    stack = await startNotificationStack({
      targets: [target],
      slackUsers: [
        { id: "U0DEV", name: "dev", email: dev.id },
        { id: "U0BOSS", name: "boss", email: boss.id },
        { id: "U0CTO", name: "cto", email: cto.id },
      ],
      channels: [
        { id: APPROVERS, name: "approvals" },
        { id: LEADS, name: "sre-leads" },
      ],
      clock: () => now,
    });
    ({ slack, broker, notifications, queued } = stack);
  });

  afterEach(async () => {
    await stack.close();
  });

  const notify = () => stack.notify();
  const after = (from: Date, seconds: number) => {
    now = new Date(from.getTime() + seconds * 1000);
  };
  const dms = (userId: string) => stack.dms(userId);

  it("re-posts the request to each level's channel and DMs its named approvers, never the requester", async () => {
    const { request } = await broker.requests.create(dev, {
      targetId: "prod",
      durationSeconds: 900,
      reason: "deploy is stuck",
    });
    await notify();
    expect(slack.messages(APPROVERS)).toHaveLength(1);
    expect(slack.messages(LEADS)).toHaveLength(0);

    after(request.createdAt, 1800);
    expect((await broker.reconcile.run()).requestsEscalated).toBe(1);
    await notify();
    const [leadsPost] = slack.messages(LEADS);
    expect(slack.messages(LEADS)).toHaveLength(1);
    expect(textOf(leadsPost)).toContain("Escalated to level 1");
    expect(textOf(leadsPost)).toContain(`<!date^${Math.floor(request.createdAt.getTime() / 1000)}^`);
    expect(textOf(leadsPost)).toContain("Approve");
    // The original card says so too.
    expect(textOf(slack.messages(APPROVERS)[0])).toContain("Escalated to level 1");
    const [bossDm] = dms("U0BOSS");
    expect(dms("U0BOSS")).toHaveLength(1);
    expect(textOf(bossDm)).toContain("Escalated to you");
    expect(textOf(bossDm)).toContain(
      `dev@example.com's request for prod has waited since ${request.createdAt.toISOString()}`,
    );
    expect(textOf(bossDm)).toContain(`<#${LEADS}>`);
    expect(dms("U0CTO")).toHaveLength(0);

    after(request.createdAt, 3600);
    expect((await broker.reconcile.run()).requestsEscalated).toBe(1);
    await notify();
    // Level 2 names no channel: re-posted to the approvers' channel, beside the original card.
    expect(slack.messages(APPROVERS)).toHaveLength(2);
    expect(textOf(slack.messages(APPROVERS)[1])).toContain("Escalated to level 2");
    expect(dms("U0CTO")).toHaveLength(1);
    expect(textOf(dms("U0CTO")[0])).toContain("(level 2)");
    expect(dms("U0BOSS")).toHaveLength(1);
    // The requester is named at level 2 and hears nothing of it.
    expect(dms("U0DEV").filter((m) => textOf(m).includes("Escalated"))).toEqual([]);

    // The CTO decides; every post of the request changes in place, and none keeps its buttons.
    await broker.reviews.submit(cto, { requestId: request.id, decision: "approve" });
    await notify();
    const posts = [...slack.messages(APPROVERS), ...slack.messages(LEADS)];
    expect(posts).toHaveLength(3);
    for (const post of posts) {
      expect(textOf(post)).toContain("Approved by cto@example.com");
      expect(textOf(post)).not.toContain('"action_id"');
    }
  });

  it("a repeated delivery does not post again, and a request decided first pages nobody", async () => {
    const { request } = await broker.requests.create(dev, {
      targetId: "prod",
      durationSeconds: 900,
      reason: "deploy is stuck",
    });
    await notify();
    after(request.createdAt, 1800);
    await broker.reconcile.run();
    await notifications.dispatch();
    const escalated = [...queued];
    for (const seq of escalated) await notifications.deliver(seq);
    for (const seq of escalated) await notifications.deliver(seq);
    expect(slack.messages(LEADS)).toHaveLength(1);

    after(request.createdAt, 3600);
    await broker.reconcile.run();
    await broker.reviews.submit(boss, { requestId: request.id, decision: "deny", comment: "not now" });
    // Level 1's deliveries were run above: forget them, so only what came since is delivered.
    queued.splice(0);
    await notify();
    expect(slack.messages(APPROVERS)).toHaveLength(1);
    expect(dms("U0CTO")).toHaveLength(0);
  });
});
