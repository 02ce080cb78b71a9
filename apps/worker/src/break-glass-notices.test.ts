import { randomUUID } from "node:crypto";
import {
  type Broker,
  createBroker,
  createCredentialCipher,
  createNotificationService,
  type NotificationService,
  targetCatalog,
} from "@leasehold/broker";
import { slackSettingsSchema, targetConfigSchema } from "@leasehold/config";
import { createStore, type Database, type Store } from "@leasehold/db";
import type { Principal } from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { type CredentialProvider, providerRegistry } from "@leasehold/providers";
import { type SlackSandbox, startSlackSandbox } from "@leasehold/sandbox";
import { createSlackClient, createSlackIdentity, createSlackMessenger, SLACK_IDS } from "@leasehold/slack";
import { createTestDatabase } from "@leasehold/test-kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/*
 * What a break-glass says, and to whom: its `request.break_glass` event, delivered through the real
 * Slack messenger and WebClient to the Slack stand-in, is posted to the alerts channel and to the
 * target's approvers' channel (with Mark justified / Mark unjustified), and DM'd to the approvers the
 * target names, never the person who broke the glass; the review rewrites both posts in place.
 */

const APPROVERS = "C0APPROVE";
const ALERTS = "C0ALERTS";
const TOKEN = "xoxb-1111111111-break-glass-test";
const person = (id: string, groups: string[]): Principal => ({
  id,
  kind: "human",
  provider: "corp",
  subject: id,
  groups,
});
const dev = person("dev@example.com", ["eng", "oncall"]);
const boss = person("boss@example.com", []);
const cto = person("cto@example.com", []);

/** Never called: nothing here is issued. */
const idleProvider: CredentialProvider = {
  kind: "aws-role",
  issue: () => Promise.reject(new Error("not in this test")),
  discardEarlierAttempts: async () => {},
  revoke: async () => {},
  expire: async () => {},
  release: async () => {},
  needsRelease: () => false,
};

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

const textOf = (message: { text: string; blocks: readonly unknown[] } | undefined) =>
  `${message?.text ?? ""} ${JSON.stringify(message?.blocks ?? [])}`;

describe("break-glass broadcast through the Slack stand-in", () => {
  let slack: SlackSandbox;
  let db: Database;
  let store: Store;
  let broker: Broker;
  let queued: number[];

  beforeEach(async () => {
    slack = await startSlackSandbox({
      botToken: TOKEN,
      users: [
        { id: "U0DEV", name: "dev", email: dev.id },
        { id: "U0BOSS", name: "boss", email: boss.id },
        { id: "U0CTO", name: "cto", email: cto.id },
      ],
      channels: [
        { id: APPROVERS, name: "approvals" },
        { id: ALERTS, name: "security-alerts" },
      ],
      rateLimitPerChannelPerSecond: 0,
    });
    db = await createTestDatabase("pglite");
    store = createStore(db, { auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) });
    const targets = targetCatalog([target]);
    broker = createBroker({
      store,
      targets,
      providers: providerRegistry([idleProvider]),
      queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
      cipher: createCredentialCipher(Buffer.alloc(32, 2)),
      clock: () => new Date(),
      newId: randomUUID,
      policy: policyEngineFor({ targets: targets.list(), admins: { users: [], groups: [] } }),
      log: { info() {}, warn() {}, error() {} },
    });
    queued = [];
  });

  afterEach(async () => {
    await db.close();
    await slack.close();
  });

  /** The notification use case over the real Slack messenger, with or without an alerts channel. */
  const notifierWith = (alertsChannel: string | undefined): NotificationService => {
    const client = createSlackClient({ token: TOKEN, apiUrl: slack.apiUrl });
    return createNotificationService({
      store,
      targets: targetCatalog([target]),
      messenger: createSlackMessenger({
        client,
        identity: createSlackIdentity(slackSettingsSchema.parse({}), client),
      }),
      queue: {
        deliver: async (seq) => {
          queued.push(seq);
        },
        remindAt: async () => {},
      },
      alertsChannel,
      clock: () => new Date(),
      log: { info() {}, warn() {}, error() {} },
    });
  };
  const notify = async (notifications: NotificationService) => {
    await notifications.dispatch();
    for (const seq of queued.splice(0)) await notifications.deliver(seq);
  };
  const dms = (userId: string) => slack.messages(slack.dmChannelOf(userId));
  const breakGlass = () =>
    broker.requests.breakGlass(dev, {
      targetId: "prod",
      durationSeconds: 1800,
      reason: "checkout is down <!channel>",
      ticket: "INC-9",
    });

  it("posts to the alerts and approvers' channels with review buttons, DMs the named approvers, and shows the review in place", async () => {
    const notifications = notifierWith(ALERTS);
    const { request } = await breakGlass();
    await notify(notifications);
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
    await notify(notifications);
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
    const notifications = notifierWith(ALERTS);
    await breakGlass();
    await notifications.dispatch();
    const seqs = queued.splice(0);
    for (const seq of seqs) await notifications.deliver(seq);
    for (const seq of seqs) await notifications.deliver(seq);
    expect(slack.messages(ALERTS)).toHaveLength(1);
    expect(slack.messages(APPROVERS)).toHaveLength(1);
  });

  it("without an alerts channel, the target's approvers' channel still gets it", async () => {
    const notifications = notifierWith(undefined);
    await breakGlass();
    await notify(notifications);
    expect(slack.messages(APPROVERS)).toHaveLength(1);
    expect(textOf(slack.messages(APPROVERS)[0])).toContain("Break-glass: prod");
    expect(slack.messages(ALERTS)).toHaveLength(0);
  });
});
