import { randomUUID } from "node:crypto";
import {
  type Broker,
  createBroker,
  createCredentialCipher,
  createNotificationService,
  type NotificationQueue,
  type NotificationService,
  type RotationSetup,
  targetCatalog,
} from "@leasehold/broker";
import { slackSettingsSchema } from "@leasehold/config";
import { createStore, type Database, type Store } from "@leasehold/db";
import type { Clock, Principal, Target } from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { type CredentialProvider, providerRegistry } from "@leasehold/providers";
import {
  type SlackSandbox,
  type SlackSandboxChannel,
  type SlackSandboxUser,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { createSlackClient, createSlackIdentity, createSlackMessenger } from "@leasehold/slack";
import { createTestDatabase } from "@leasehold/test-kit";

/*
 * Shared set-up for the worker's notification tests: the Slack stand-in with the test's people and
 * channels, a PGlite database, a broker whose policy is the targets' own configuration, and the
 * notification service over the real Slack messenger and WebClient. Unless the test brings its own
 * queue, the deliveries the service queues are only recorded, so the test runs them by hand in audit
 * order, as the notify queue would.
 */

export const person = (id: string, groups: string[]): Principal => ({
  id,
  kind: "human",
  provider: "corp",
  subject: id,
  groups,
});

/** A Slack message's text and blocks as one string, for `toContain`. */
export const textOf = (message: { text: string; blocks: readonly unknown[] } | undefined) =>
  `${message?.text ?? ""} ${JSON.stringify(message?.blocks ?? [])}`;

/** Never called: the tests that take it end before any grant is issued. */
const idleProvider: CredentialProvider = {
  kind: "aws-role",
  issue: () => Promise.reject(new Error("not in this test")),
  discardEarlierAttempts: async () => {},
  revoke: async () => {},
  expire: async () => {},
  release: async () => {},
  needsRelease: () => false,
};

const BOT_TOKEN = "xoxb-stand-in-notification-test";
const silent = { info() {}, warn() {}, error() {} };

export type NotificationStackOptions = {
  readonly targets: readonly Target[];
  readonly slackUsers: readonly SlackSandboxUser[];
  readonly channels: readonly SlackSandboxChannel[];
  /** Where the notification service also posts; none by default. */
  readonly alertsChannel?: string;
  /** The broker's and the notification service's clock; default the wall clock. */
  readonly clock?: Clock;
  /** Default: a provider that is never called. */
  readonly provider?: CredentialProvider;
  /** The notification service's queue; default one that records deliveries in `queued`. */
  readonly queue?: NotificationQueue;
  /** The broker's rotations; default none. */
  readonly rotation?: RotationSetup;
  /** Per Slack Web API call; default the client's own. */
  readonly slackTimeoutMs?: number;
};

export type NotificationStack = {
  readonly slack: SlackSandbox;
  readonly db: Database;
  readonly store: Store;
  readonly broker: Broker;
  readonly notifications: NotificationService;
  /** The audit seqs queued for delivery and not yet run (empty when the test brought its own queue). */
  readonly queued: number[];
  /** Dispatches new events, then delivers every queued one, in order. */
  notify(): Promise<void>;
  /** The direct messages the bot sent to a Slack user. */
  dms(slackUserId: string): ReturnType<SlackSandbox["messages"]>;
  close(): Promise<void>;
};

export async function startNotificationStack(options: NotificationStackOptions): Promise<NotificationStack> {
  const slack = await startSlackSandbox({
    botToken: BOT_TOKEN,
    users: options.slackUsers,
    channels: options.channels,
    rateLimitPerChannelPerSecond: 0,
  });
  const db = await createTestDatabase("pglite");
  const store = createStore(db, {
    keyId: "k1",
    auditKey: Buffer.alloc(32, 1),
    grantKey: Buffer.alloc(32, 2),
  });
  const targets = targetCatalog(options.targets);
  const clock = options.clock ?? (() => new Date());
  const broker = createBroker(
    {
      store,
      targets,
      providers: providerRegistry([options.provider ?? idleProvider]),
      queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
      cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 2) }),
      clock,
      newId: randomUUID,
      policy: policyEngineFor({ targets: targets.list(), admins: { users: [], groups: [] } }),
      log: silent,
    },
    options.rotation ? { rotation: options.rotation } : {},
  );
  const client = createSlackClient({
    token: BOT_TOKEN,
    apiUrl: slack.apiUrl,
    ...(options.slackTimeoutMs === undefined ? {} : { timeoutMs: options.slackTimeoutMs }),
  });
  const queued: number[] = [];
  const notifications = createNotificationService({
    store,
    targets,
    messenger: createSlackMessenger({
      client,
      identity: createSlackIdentity(slackSettingsSchema.parse({}), client),
    }),
    queue: options.queue ?? {
      deliver: async (seq) => {
        queued.push(seq);
      },
      remindAt: async () => {},
    },
    alertsChannel: options.alertsChannel,
    clock,
    log: silent,
  });
  return {
    slack,
    db,
    store,
    broker,
    notifications,
    queued,
    notify: async () => {
      await notifications.dispatch();
      for (const seq of queued.splice(0)) await notifications.deliver(seq);
    },
    dms: (slackUserId) => slack.messages(slack.dmChannelOf(slackUserId)),
    close: async () => {
      await db.close();
      await slack.close();
    },
  };
}
