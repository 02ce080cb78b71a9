import { randomUUID } from "node:crypto";
import type { Broker } from "@leasehold/broker";
import { targetConfigSchema } from "@leasehold/config";
import type { Store } from "@leasehold/db";
import type { CredentialProvider } from "@leasehold/providers";
import {
  createQueueProducer,
  notificationQueues,
  type QueueProducer,
  type QueueWorker,
} from "@leasehold/queue";
import { NOTIFICATION_DISPATCH_EVERY_MS } from "@leasehold/runtime";
import type { SlackSandbox } from "@leasehold/sandbox";
import { createScratchQueueStore, queueBackends, type ScratchQueueStore } from "@leasehold/test-kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startProcessors } from "./job-harness.js";
import { notificationProcessors } from "./notification-processors.js";
import { type NotificationStack, person, startNotificationStack } from "./test-notification-stack.js";

/** Issues at once, so a test can activate a grant without a real backend. */
const instantProvider: CredentialProvider = {
  kind: "aws-role",
  issue: async () => {
    const expiresAt = new Date(Date.now() + 900_000);
    return {
      reference: { sessionName: "test" },
      secret: {
        kind: "aws-session",
        accessKeyId: "ASIANOTREAL",
        secretAccessKey: "not-a-real-secret",
        sessionToken: "not-a-real-token",
        expiration: expiresAt.toISOString(),
      },
      expiresAt,
    };
  },
  discardEarlierAttempts: async () => {},
  revoke: async () => {},
  expire: async () => {},
  release: async () => {},
  needsRelease: () => false,
};

/**
 * Slack failing in every way it can (ok:false, 429 with Retry-After, a call that hangs) must not lose a
 * decision or a notification: decisions never wait for Slack, and notifications are retried by the
 * queue until Slack takes them. Real database, real Redis, the real WebClient against the stand-in.
 */
const CHANNEL = "C0APPROVE";
const dev = person("dev@example.com", ["eng"]);
const [alice, bob] = [person("alice@example.com", ["sre"]), person("bob@example.com", ["sre"])];
describe.each(queueBackends)("notifications when Slack misbehaves, queues on %s", (queueBackend) => {
  let stack: NotificationStack;
  let slack: SlackSandbox;
  let broker: Broker;
  let producer: QueueProducer;
  let workers: QueueWorker[] = [];
  let queueStore: ScratchQueueStore;
  let store: Store;

  beforeEach(async () => {
    queueStore = await createScratchQueueStore(queueBackend);
    const connection = queueStore.connection;
    producer = createQueueProducer(connection);
    stack = await startNotificationStack({
      targets: [
        targetConfigSchema.parse({
          id: "prod",
          kind: "aws-role",
          requesters: { groups: ["eng"] },
          approvers: { groups: ["sre"] },
          requiredApprovals: 2,
          maxDuration: "1h",
          slack: { approversChannel: CHANNEL },
          aws: { roleArn: "arn:aws:iam::123456789012:role/Prod" },
        }),
      ],
      slackUsers: [{ id: "U0DEV", name: "dev", email: dev.id, emailConfirmed: true }],
      channels: [
        { id: CHANNEL, name: "approvals" },
        { id: "C0ALERTS", name: "security-alerts" },
      ],
      alertsChannel: "C0ALERTS",
      provider: instantProvider,
      // The notifications go through the real queues, and a call that hangs times out quickly.
      queue: notificationQueues(producer),
      slackTimeoutMs: 300,
    });
    ({ slack, broker, store } = stack);
    const log = { info() {}, warn() {}, error() {} };
    workers = startProcessors(notificationProcessors(stack.notifications), connection, { log, lockMs: 5000 });
    await producer.scheduleRepeating("notifyDispatch", NOTIFICATION_DISPATCH_EVERY_MS);
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await producer.close();
    await queueStore.close();
    await stack.close();
  });

  const ask = () =>
    broker.requests.create(dev, { targetId: "prod", durationSeconds: 900, reason: "slack is flaky" });
  const posted = () => eventually(() => slack.messages(CHANNEL)[0], "the request message");
  const postCalls = () => slack.calls.filter((c) => c.method === "chat.postMessage");

  it("an ok:false answer is retried until Slack takes the message", async () => {
    slack.injectFault({ method: "chat.postMessage", kind: "error", error: "internal_error", times: 2 });
    await ask();
    await posted();
    expect(postCalls().map((c) => c.error ?? "ok")).toEqual(["internal_error", "internal_error", "ok"]);
  });

  it("a 429 puts the notification back for Retry-After, then delivers", async () => {
    slack.injectFault({ method: "chat.postMessage", kind: "ratelimit", retryAfterSeconds: 1, times: 1 });
    await ask();
    await posted();
    const [limited, delivered] = postCalls();
    expect(limited?.status).toBe(429);
    expect((delivered?.at.getTime() ?? 0) - (limited?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("a call that times out is retried (Slack may have taken it: delivery is at least once)", async () => {
    slack.injectFault({ method: "chat.postMessage", kind: "delay", ms: 1000, times: 1 });
    await ask();
    await eventually(() => (postCalls().length >= 2 ? true : undefined), "a retry after the timeout");
    expect(slack.messages(CHANNEL).length).toBeGreaterThanOrEqual(1);
  });

  it("decisions never wait for Slack, and the message catches up when Slack is back", async () => {
    slack.injectFault({ method: "chat.postMessage", kind: "http500", times: 3 });
    const { request } = await ask();
    await broker.reviews.submit(alice, { requestId: request.id, decision: "approve" });
    const decided = await broker.reviews.submit(bob, { requestId: request.id, decision: "approve" });
    expect(decided.request.state).toBe("approved");
    await eventually(
      () =>
        String(JSON.stringify(slack.messages(CHANNEL)[0]?.blocks)).includes("Approved by") ? true : undefined,
      "the message to show the approval",
    );
    expect(slack.messages(CHANNEL)).toHaveLength(1);
  });

  it("one person's messages keep audit order: a rate-limited 'approved' still arrives before 'granted'", async () => {
    const { request } = await ask();
    await posted();
    // The next chat.postMessage is the "approved" DM: Slack makes it wait 3 s. When each event was an
    // independent job, the "granted" DM (dispatched within a second) overtook it every time.
    slack.injectFault({ method: "chat.postMessage", kind: "ratelimit", retryAfterSeconds: 3, times: 1 });
    await broker.reviews.submit(alice, { requestId: request.id, decision: "approve" });
    const { grant } = await broker.reviews.submit(bob, { requestId: request.id, decision: "approve" });
    if (!grant) throw new Error("the second approval creates the grant");
    // Only once Slack has refused the "approved" DM is the grant issued, so the refusal cannot land on
    // the "granted" DM instead; the access then goes live well within those 3 s.
    await eventually(() => postCalls().find((c) => c.status === 429), "Slack to refuse the approved DM");
    expect(await broker.grants.issue(grant.id, { isLast: true, signal: undefined })).toBe("issued");

    const dms = await eventually(() => {
      const texts = slack.messages(slack.dmChannelOf("U0DEV")).map((m) => m.text);
      return texts.length >= 2 ? texts : undefined;
    }, "both direct messages");
    expect(postCalls().some((c) => c.status === 429)).toBe(true);
    expect(dms).toHaveLength(2);
    expect(dms[0]).toMatch(/^Your request for prod was approved by /);
    expect(dms[1]).toMatch(/^Access to prod granted until /);
  });

  it("a failed rotation is posted to the alerts channel", async () => {
    await store.transaction((repos) =>
      repos.audit.append(
        {
          actor: "system:worker",
          action: "rotation.failed",
          subjectType: "rotation",
          subjectId: randomUUID(),
          data: {
            rotation: "orders-app",
            step: "test",
            error: "the new password does not log in",
            rolledBack: true,
          },
        },
        new Date(),
      ),
    );
    const alert = await eventually(() => slack.messages("C0ALERTS")[0], "the alert");
    expect(alert.text).toBe("Rotation orders-app failed at test.");
    expect(JSON.stringify(alert.blocks)).toContain("the database password was put back");
  });
});

async function eventually<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
