import type { RotationSettings, RotationSetup } from "@leasehold/broker";
import { createRotationOverdueCheck } from "@leasehold/broker";
import type { Store } from "@leasehold/db";
import type { Principal } from "@leasehold/domain";
import {
  createDatabasePasswords,
  createVaultProvider,
  createVaultSession,
  type DatabasePasswords,
  rotatedRole,
  vaultKvStore,
  vaultTargetSchema,
} from "@leasehold/providers";
import {
  createQueueProducer,
  notificationQueues,
  type QueueProducer,
  type QueueWorker,
} from "@leasehold/queue";
import { NOTIFICATION_DISPATCH_EVERY_MS } from "@leasehold/runtime";
import { type SlackSandbox, startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import { createScratchQueueStore, type ScratchQueueStore } from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startProcessors } from "./job-harness.js";
import { notificationProcessors } from "./notification-processors.js";
import { type NotificationStack, startNotificationStack, textOf } from "./test-notification-stack.js";

/*
 * The alerts to the alerts channel that no person's action causes: a failed rotation run, a rotation
 * overdue, and revocation debt. Each goes from its audit event through the real notify queue (two
 * sets of notification workers competing for the jobs) and the real Slack messenger to the Slack
 * stand-in; the rotation reads its secret from the Vault stand-in and the lease is a real Vault lease.
 */

const ALERTS = "C0ALERTS";
const ORDERS_CHANNEL = "C0ORDERS";
const ADMIN = "postgres://postgres@127.0.0.1:5432/postgres";
const silent = { info() {}, warn() {}, error() {} };

/** A password the secret holds: it must never reach Slack. */
const SECRET_PASSWORD = "pw-that-must-not-leak-4242";

/** A rotation whose secret is at `orders/<id>` in Vault KV. */
const rotationSettings = (id: string): RotationSettings => ({
  id,
  description: "",
  secret: { vaultKv: { mount: "secret", path: `orders/${id}` } },
  schedule: { cron: "0 3 * * *", jitterSeconds: 0 },
});

const workload: Principal = {
  id: "k8s:orders-api",
  kind: "workload",
  provider: "k8s",
  subject: "orders-api",
  groups: [],
  claims: {},
};

const ordersTarget = vaultTargetSchema.parse({
  id: "orders",
  kind: "vault",
  maxDuration: "2h",
  leases: [{ provider: "k8s", subject: "orders-*", maxTtl: "1h" }],
  slack: { approversChannel: ORDERS_CHANNEL },
  vault: { path: "database/creds/orders" },
});

describe("alerts from the worker through the notify queue and the Slack stand-in", () => {
  let vault: VaultSandbox;
  let passwords: DatabasePasswords;
  let queueStore: ScratchQueueStore;
  let producer: QueueProducer;
  let workers: QueueWorker[] = [];
  let stack: NotificationStack;
  let slack: SlackSandbox;
  const clock = { now: new Date("2026-12-06T00:00:00.000Z") };

  beforeAll(async () => {
    vault = await startVaultSandbox({
      databaseRoles: [
        {
          name: "orders",
          engine: "postgres",
          connectionUrl: ADMIN,
          creationStatements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'`],
          revocationStatements: [`DROP ROLE IF EXISTS "{{name}}"`],
          defaultTtlSeconds: 3600,
          maxTtlSeconds: 7200,
        },
      ],
    });
    // The secret names another user than the rotation's: staging refuses it.
    await fetch(`${vault.url}/v1/secret/data/orders/orders-app`, {
      method: "POST",
      headers: { "X-Vault-Token": vault.rootToken, "content-type": "application/json" },
      body: JSON.stringify({ data: { username: "someone_else", password: SECRET_PASSWORD } }),
    });
    passwords = createDatabasePasswords();
  });
  afterAll(async () => {
    await passwords?.close();
    await vault?.revokeAllLeases();
    await vault?.close();
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    await producer?.close();
    await queueStore?.close();
    await stack?.close();
  });

  /** The stack with the given rotations, its deliveries through the real queue and two sets of workers. */
  const start = async (rotations: readonly RotationSettings[]) => {
    clock.now = new Date("2026-12-06T00:00:00.000Z");
    queueStore = await createScratchQueueStore("redis");
    producer = createQueueProducer(queueStore.connection);
    const session = createVaultSession({ address: vault.url, auth: { token: vault.rootToken } });
    const rotation: RotationSetup = {
      rotations: new Map(
        rotations.map((config) => [
          config.id,
          {
            config,
            secret: vaultKvStore(
              session,
              "secret",
              (config.secret as { vaultKv: { path: string } }).vaultKv.path,
            ),
            // The secret names another user: staging refuses it, a failure no retry can mend.
            credential: rotatedRole(passwords, {
              engine: "mysql",
              adminUrl: "mysql://root@127.0.0.1:3306",
              username: "orders_app",
              passwordLength: 32,
            }),
          },
        ]),
      ),
      enqueueRun: async () => {},
    };
    stack = await startNotificationStack({
      targets: [ordersTarget],
      slackUsers: [],
      channels: [
        { id: ALERTS, name: "security-alerts" },
        { id: ORDERS_CHANNEL, name: "orders" },
      ],
      alertsChannel: ALERTS,
      clock: () => clock.now,
      provider: createVaultProvider(session),
      queue: notificationQueues(producer),
      rotation,
    });
    slack = stack.slack;
    for (let i = 0; i < 2; i += 1) {
      workers.push(
        ...startProcessors(notificationProcessors(stack.notifications), queueStore.connection, {
          log: silent,
          lockMs: 5000,
        }),
      );
    }
    await producer.scheduleRepeating("notifyDispatch", NOTIFICATION_DISPATCH_EVERY_MS);
    return rotation;
  };

  const posts = (channel: string) => slack.messages(channel);
  /** Waits until `channel` holds `count` messages (no more are expected to follow: see each test). */
  const postsReach = async (channel: string, count: number) => {
    const deadline = Date.now() + 20_000;
    while (posts(channel).length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} posts in ${channel}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return posts(channel);
  };
  const actionsOf = (store: Store, subjectId: string) =>
    store.read(async (r) =>
      (await r.audit.list({ afterSeq: 0, limit: 100, subjectId })).map((e) => e.action),
    );

  it("a failed rotation run is posted once, with its step and reason, after retries and a race to end it", async () => {
    await start([rotationSettings("orders-app")]);
    const { broker, store } = stack;
    const failRun = async (key: string) => {
      const run = await broker.rotations.start("orders-app", { key, by: "system:schedule" });
      // Two attempts meet a Vault that is unavailable: retried, nothing recorded as failed yet.
      vault.injectFault({ pathPrefix: "secret/", status: 503, times: 2 });
      for (let attempt = 0; attempt < 2; attempt += 1) {
        await expect(broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow();
      }
      expect(await actionsOf(store, run.id)).toEqual(["rotation.started"]);
      // Two workers run the last attempt at once (a stalled job taken over): one failure is recorded.
      await Promise.allSettled([
        broker.rotations.execute(run.id, { isLast: true }),
        broker.rotations.execute(run.id, { isLast: true }),
      ]);
      expect(await actionsOf(store, run.id)).toEqual(["rotation.started", "rotation.failed"]);
      return run.id;
    };
    // Slack refuses the first post once: the delivery is retried and still posts one message.
    slack.injectFault({ method: "chat.postMessage", kind: "error", error: "internal_error", times: 1 });
    await failRun("tick-1");
    const [alert] = await postsReach(ALERTS, 1);
    expect(alert?.text).toBe("Rotation orders-app failed at create.");
    expect(textOf(alert)).toContain("username is not orders_app; fix the secret or the rotation");
    expect(textOf(alert)).not.toContain(SECRET_PASSWORD);
    expect(slack.calls.filter((c) => c.method === "chat.postMessage").map((c) => c.error ?? "ok")).toEqual([
      "internal_error",
      "ok",
    ]);

    // A second run's failure follows in the same lane: once it is posted, the first is long done.
    await failRun("tick-2");
    expect(await postsReach(ALERTS, 2)).toHaveLength(2);
    expect(posts(ORDERS_CHANNEL)).toEqual([]);
  });

  it("a rotation with no success for two periods is posted once per episode, from any number of workers", async () => {
    const setup = await start([rotationSettings("nightly"), rotationSettings("quiet")]);
    const { store } = stack;
    const checks = [
      stack.broker.rotations.checkOverdue,
      // Another worker's check, over the same database.
      createRotationOverdueCheck({ store, clock: () => clock.now, log: silent, setup }).checkOverdue,
    ];
    const checkAll = async () => (await Promise.all(checks.map((check) => check()))).reduce((a, b) => a + b);
    const at = (iso: string) => new Date(iso);
    /** Records a run of nightly that started at `startedAt` and ended as `state` then. */
    let runs = 0;
    const recordRun = (startedAt: Date, state: "succeeded" | "failed") =>
      store.transaction(async (r) => {
        runs += 1;
        const { run } = await r.rotations.start({
          id: `b6f0c0de-0000-4000-8000-00000000000${runs}`,
          rotationId: "nightly",
          triggerKey: `manual-${runs}`,
          triggeredBy: "sec@example.com",
          at: startedAt,
        });
        if (run) await r.rotations.finish(run.id, state, startedAt, state === "failed" ? "refused" : null);
      });
    const overdueText = (id: string, since: string) => `Rotation ${id} is overdue: it ${since}.`;

    // nightly's first run failed at 06:00; quiet never ran, so its count starts when the workers started
    // watching (00:00). Both run daily: two periods are two days.
    await recordRun(at("2026-12-06T06:00:00Z"), "failed");
    clock.now = at("2026-12-08T00:00:00Z");
    expect(await checkAll()).toBe(0);
    clock.now = at("2026-12-08T00:00:01Z");
    expect(await checkAll()).toBe(1);
    clock.now = at("2026-12-08T06:00:00Z");
    expect(await checkAll()).toBe(0);
    clock.now = at("2026-12-08T06:00:01Z");
    expect(await checkAll()).toBe(1);
    clock.now = at("2026-12-10T00:00:00Z");
    expect(await checkAll()).toBe(0);
    expect((await postsReach(ALERTS, 2)).map((m) => m.text)).toEqual([
      overdueText("quiet", "has not succeeded since 2026-12-06T00:00:00.000Z"),
      overdueText("nightly", "has not succeeded since 2026-12-06T06:00:00.000Z"),
    ]);
    expect(textOf(posts(ALERTS)[0])).toContain("(24h each)");

    // A success ends nightly's episode; two days and a second after it, the next one begins.
    await recordRun(at("2026-12-10T03:00:00Z"), "succeeded");
    clock.now = at("2026-12-12T03:00:00Z");
    expect(await checkAll()).toBe(0);
    clock.now = at("2026-12-12T03:00:01Z");
    expect(await checkAll()).toBe(1);
    clock.now = at("2026-12-20T00:00:00Z");
    expect(await checkAll()).toBe(0);
    expect((await postsReach(ALERTS, 3)).map((m) => m.text)).toEqual([
      overdueText("quiet", "has not succeeded since 2026-12-06T00:00:00.000Z"),
      overdueText("nightly", "has not succeeded since 2026-12-06T06:00:00.000Z"),
      overdueText("nightly", "last succeeded 2026-12-10T03:00:00.000Z"),
    ]);
    expect(await actionsOf(store, "nightly")).toEqual(["rotation.overdue", "rotation.overdue"]);
  });

  it("revocation debt is posted once to the alerts channel and once to the target's channel", async () => {
    await start([]);
    const { broker, store } = stack;
    clock.now = new Date();
    /** A lease whose revocation meets a sealed Vault on every attempt: it ends in revocation debt. */
    const leaseInDebt = async () => {
      const { grant, credential } = await broker.leases.create(workload, {
        targetId: "orders",
        ttlSeconds: 600,
      });
      await broker.grants.revoke(workload, { grantId: grant.id });
      vault.setMode("sealed");
      try {
        await expect(broker.grants.finishRevoke(grant.id, { isLast: false })).rejects.toThrow(/sealed/);
        await expect(broker.grants.finishRevoke(grant.id, { isLast: true })).rejects.toThrow(/sealed/);
      } finally {
        vault.setMode("active");
      }
      expect((await store.read((r) => r.grants.findById(grant.id)))?.state).toBe("revocation_failed");
      return { grantId: grant.id, secret: credential.secret };
    };
    const debtText = (grantId: string) =>
      `Revocation debt: grant ${grantId} for k8s:orders-api on orders could not be ended.`;

    const first = await leaseInDebt();
    for (const channel of [ALERTS, ORDERS_CHANNEL]) {
      const [message] = await postsReach(channel, 1);
      expect(message?.text).toBe(debtText(first.grantId));
      expect(textOf(message)).toMatch(/sealed/);
      if (first.secret.kind === "database") expect(textOf(message)).not.toContain(first.secret.password);
    }
    // The same holder's next debt is delivered after the first in their lane: once it is posted, the
    // first delivery is over, and it posted once to each channel.
    const second = await leaseInDebt();
    for (const channel of [ALERTS, ORDERS_CHANNEL]) {
      expect((await postsReach(channel, 2)).map((m) => m.text)).toEqual([
        debtText(first.grantId),
        debtText(second.grantId),
      ]);
    }
    // Settled once Vault is back (the lease is revoked there).
    expect(await broker.grants.finishRevoke(first.grantId, { isLast: false })).toBe("revoked");
    expect(await broker.grants.finishRevoke(second.grantId, { isLast: false })).toBe("revoked");
  });
});
