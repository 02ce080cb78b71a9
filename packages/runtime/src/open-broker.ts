import { randomUUID } from "node:crypto";
import {
  type AuditExportService,
  type Broker,
  type CredentialCipher,
  createBroker,
  createCredentialCipher,
  createNotificationService,
  type ExpiryOptions,
  type Logger,
  type NotificationService,
  type ReconcileOptions,
  type RotationSetup,
  storedVaultSecretId,
  targetCatalog,
  type VaultSecretIdSetup,
  vaultSecretIdRotation,
} from "@leasehold/broker";
import {
  type CheckpointKey,
  checkpointKeyOf,
  deriveKeyring,
  type LeaseholdConfig,
  type MasterKeyring,
  resolveCheckpointKey,
  signCheckpoint,
  slackSettingsSchema,
} from "@leasehold/config";
import { createStore, type Database, openDatabase, type Store } from "@leasehold/db";
import { type Clock, type Metrics, systemClock } from "@leasehold/domain";
import { type AppMetrics, createAppMetrics, type HealthSnapshot } from "@leasehold/metrics";
import { type PolicyEngine, policyEngineFor } from "@leasehold/policy";
import {
  type AwsClientOptions,
  createAwsClients,
  createDatabasePasswords,
  createVaultSession,
  type OnCallSource,
  providerRegistry,
  type VaultSession,
  type VaultSettings,
  vaultAppRole,
} from "@leasehold/providers";
import {
  createQueueProducer,
  grantQueues,
  notificationQueues,
  prepareQueueSchema,
  type QueueConnection,
  type QueueProducer,
} from "@leasehold/queue";
import { createSlackClient, createSlackIdentity, createSlackMessenger } from "@leasehold/slack";
import { AUDIT_EXPORT_EVERY_MS, auditExportFor, auditSinksFrom, feedSinkLag } from "./audit-export-wiring.js";
import { providersFor, rotationSetup } from "./backends.js";
import { healthReader } from "./health-reader.js";
import { tracedProducer, tracedProvider, tracedStore } from "./traced-backends.js";

export type BrokerSettings = {
  readonly config: LeaseholdConfig;
  /** Omitted: leasehold.yaml's lists alone (no policy files). */
  readonly policy?: PolicyEngine;
  /** PagerDuty / Opsgenie for on-call auto-approval; omitted: nobody counts as on call. */
  readonly onCall?: OnCallSource | undefined;
  /** The secrets PagerDuty signs incident webhooks with; omitted or empty: the API serves none. */
  readonly pagerDutyWebhookSecrets?: readonly string[];
  readonly databaseUrl: string | undefined;
  /** The tables' owner, to migrate through when DATABASE_URL's role owns nothing (README, "Database roles"). */
  readonly migrationUrl?: string | undefined;
  readonly dataDir: string;
  readonly queue: QueueConnection;
  readonly masterKey: Buffer;
  /** LEASEHOLD_MASTER_KEYS_PREVIOUS: retired master keys, read until the re-seal has moved everything. */
  readonly previousMasterKeys?: readonly Buffer[];
  /** LEASEHOLD_CHECKPOINT_KEY: a PEM Ed25519 private key; unset, one derived from the master key. */
  readonly checkpointKeyPem?: string | undefined;
  readonly aws: AwsClientOptions;
  /** Needed when a target has `kind: vault`. */
  readonly vault?: VaultSettings | undefined;
  /** Admin connection URL per `sql` target id, and per rotation (`rotation <id>`). */
  readonly sqlAdminUrls?: ReadonlyMap<string, string>;
  /** Where notifications go (the worker only): Slack's bot token and, for a stand-in, its API URL. */
  readonly slack?: { readonly token: string; readonly apiUrl: string | undefined } | undefined;
  /**
   * The environment the audit sinks' secrets are read from (the worker only): given, leasehold.yaml's
   * `auditSinks` are opened and exported; omitted, this process exports nothing.
   */
  readonly auditSinkEnv?: Readonly<Record<string, string | undefined>> | undefined;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly reconcile?: ReconcileOptions;
  readonly expiry?: ExpiryOptions;
  /**
   * The app's metrics: its name (the `app` label) and whether it exports the gauges read from the
   * database and queues (one app does: the API). Omitted: counted for /metrics all the same, without
   * process metrics or gauges (tests, local mode's helpers).
   */
  readonly metrics?: { readonly app: string; readonly healthGauges: boolean };
};

/** What an app gets: the use cases and what runs beside them; never the database or the queues. */
export type OpenBroker = {
  readonly broker: Broker;
  /** Present when `slack` was given: what to tell whom, from the audit trail. */
  readonly notifications: NotificationService | undefined;
  /** Present in the worker when leasehold.yaml names audit sinks: copies the trail out. */
  readonly auditExport: AuditExportService | undefined;
  readonly config: LeaseholdConfig;
  /** What /metrics serves, and the port the app's own edges (API, Slack, sweep) report through. */
  readonly metrics: AppMetrics;
  /** For the API's POST /webhooks/pagerduty; empty when leasehold.yaml names no webhook secrets. */
  readonly pagerDutyWebhookSecrets: readonly string[];
  /** Where the worker's processors take their jobs from. */
  readonly queue: QueueConnection;
  /**
   * Where the API's rate limits and the Slack bot's replay claims live: beside the queues, so that a
   * PostgreSQL-only installation needs no Redis (the database's `expiring_keys` table).
   */
  readonly shortLivedState: ShortLivedState;
  /** For /readyz: each resolves when its dependency answers. */
  readonly readiness: { database(): Promise<unknown>; queue(): Promise<unknown> };
  /**
   * Puts every job scheduler in place (a cron per rotation, the notification dispatch). Schedulers
   * live in the queue store: the worker calls this at start and on every sweep to restore what the
   * store lost (a Redis flush, truncated queue tables).
   */
  ensureSchedules(): Promise<void>;
  close(): Promise<void>;
};

/** Redis under the queues' key prefix, or this installation's database. */
export type ShortLivedState =
  | { readonly kind: "redis"; readonly redisUrl: string; readonly prefix: string }
  | { readonly kind: "postgres"; readonly database: Database };

/** How often new audit events are turned into notifications. */
export const NOTIFICATION_DISPATCH_EVERY_MS = 1000;

/**
 * Opens everything the use cases need, the same way in every app: the database (migrated), the
 * queues, the providers and the credential cipher. Each app's main.ts calls this once (through
 * openBrokerFromEnv); a missing setting stops it with a configuration error before anything opens.
 */
export async function openBroker(settings: BrokerSettings): Promise<OpenBroker> {
  const { config, log } = settings;
  const { keys, checkpointKey, previousCheckpointKeys, sinks } = keysAndSinks(settings);
  const db = await openDatabase({
    databaseUrl: settings.databaseUrl,
    migrationUrl: settings.migrationUrl,
    dataDir: settings.dataDir,
  });
  // The database and the cipher come first: Leasehold's Vault login reads its rotated secret id there.
  const store = tracedStore(createStore(db, storeKeys(keys)));
  const cipher = credentialCipher(keys);
  const vault = vaultLogin(settings.vault, config, store, cipher);
  const backends = {
    config,
    aws: createAwsClients(settings.aws),
    vault: vault?.session,
    sqlAdminUrls: settings.sqlAdminUrls ?? new Map<string, string>(),
  };
  const providers = providersFor(backends);
  const passwords = createDatabasePasswords();
  const queue = await prepareQueues(settings).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const untracedProducer = createQueueProducer(queue);
  const producer = tracedProducer(untracedProducer);
  const clock = settings.clock ?? systemClock;
  const own = vault?.rotation ? [vaultSecretIdRotation(vault.rotation, { store, cipher, clock })] : [];
  const rotation =
    config.rotations.length + own.length > 0 ? rotationSetup(backends, passwords, producer, own) : undefined;
  // A scrape's reads are not traced: they would add a trace every few seconds and tell nothing.
  const metrics = appMetricsFor(settings, () =>
    healthReader({ db, producer: untracedProducer, config, rotations: settingsOf(rotation), clock }),
  );
  const deps = {
    store,
    targets: targetCatalog(config.targets),
    clock,
    log,
    metrics: metrics.metrics,
  };
  const broker = createBroker(
    {
      ...deps,
      providers: providerRegistry(providers.map(tracedProvider)),
      queues: grantQueues(producer),
      cipher,
      newId: randomUUID,
      policy: settings.policy ?? policyEngineFor(config),
      onCall: settings.onCall,
      caps: config.limits,
    },
    {
      ...(settings.reconcile ? { reconcile: settings.reconcile } : {}),
      ...(settings.expiry ? { expiry: settings.expiry } : {}),
      ...(rotation ? { rotation } : {}),
      resealScope: { vaultRoleId: vault?.roleId },
      auditCheckpoints: {
        signer: checkpointSigner(checkpointKey, previousCheckpointKeys),
        schedule: config.auditCheckpoints,
      },
    },
  );
  const notifications = settings.slack
    ? slackNotifications(settings.slack, config, producer, deps, metrics.metrics)
    : undefined;
  const auditExport = auditExportFor(config, sinks, { ...deps, slack: settings.slack });
  if (auditExport) feedSinkLag(metrics, auditExport);
  return {
    broker,
    notifications,
    auditExport,
    config,
    metrics,
    pagerDutyWebhookSecrets: settings.pagerDutyWebhookSecrets ?? [],
    queue,
    shortLivedState:
      queue.backend === "redis"
        ? { kind: "redis", redisUrl: queue.redisUrl, prefix: queue.prefix }
        : { kind: "postgres", database: db },
    readiness: { database: () => db.query("SELECT 1"), queue: () => producer.ping() },
    ensureSchedules: () =>
      ensureSchedules(producer, rotation, {
        notifications: notifications !== undefined,
        auditExport: auditExport !== undefined,
      }),
    async close() {
      await producer.close();
      await auditExport?.close();
      await Promise.all([...providers.map((p) => p.close?.()), passwords.close()]);
      await db.close();
    },
  };
}

/** The settings of every rotation set up: leasehold.yaml's and Leasehold's own. */
const settingsOf = (setup: RotationSetup | undefined) =>
  [...(setup?.rotations.values() ?? [])].map((rotation) => rotation.config);

/** Every job scheduler this installation needs, put in place (or back) in the queue store. */
async function ensureSchedules(
  producer: QueueProducer,
  rotation: RotationSetup | undefined,
  running: { notifications: boolean; auditExport: boolean },
): Promise<void> {
  await producer.syncCronSchedulers(
    "rotationTick",
    settingsOf(rotation).map(({ id, schedule }) => ({
      id: `rotation-${id}`,
      cron: schedule.cron,
      data: { rotationId: id },
    })),
  );
  if (running.notifications)
    await producer.scheduleRepeating("notifyDispatch", NOTIFICATION_DISPATCH_EVERY_MS);
  if (running.auditExport) await producer.scheduleRepeating("auditExport", AUDIT_EXPORT_EVERY_MS);
}

/**
 * Leasehold's Vault session and, when leasehold.yaml asks for it, the rotation of its AppRole secret
 * id. With AppRole the session always logs in with the stored secret id when there is one: a rotation
 * destroyed the bootstrap, even if the rotation has since been switched off.
 */
function vaultLogin(
  settings: VaultSettings | undefined,
  config: LeaseholdConfig,
  store: Store,
  cipher: CredentialCipher,
):
  | { session: VaultSession; rotation: VaultSecretIdSetup | undefined; roleId: string | undefined }
  | undefined {
  if (!settings) return undefined;
  if ("token" in settings.auth) {
    return { session: createVaultSession(settings), rotation: undefined, roleId: undefined };
  }
  const { roleId, secretId } = settings.auth;
  const session = createVaultSession(settings, storedVaultSecretId(store, cipher, roleId));
  const appRole = config.vault?.appRole;
  const rotation = appRole?.rotateSecretId
    ? {
        appRole: vaultAppRole(session, {
          address: settings.address,
          namespace: settings.namespace,
          roleId,
          roleName: appRole.roleName,
        }),
        roleId,
        bootstrapSecretId: secretId,
        schedule: appRole.rotateSecretId.schedule,
      }
    : undefined;
  return { session, rotation, roleId };
}

/** The app's metrics as BrokerSettings.metrics asks; `health` makes the gauges' reader when wanted. */
function appMetricsFor(settings: BrokerSettings, health: () => () => Promise<HealthSnapshot>): AppMetrics {
  return createAppMetrics({
    app: settings.metrics?.app ?? "leasehold",
    defaultMetrics: settings.metrics !== undefined,
    ...(settings.metrics?.healthGauges ? { snapshot: health() } : {}),
  });
}

/**
 * What is read before anything opens: the keys derived from the master key, the checkpoint key, and
 * the audit sinks with their secrets (a missing one stops the process at once).
 */
function keysAndSinks(settings: BrokerSettings) {
  const keys = deriveKeyring(settings.masterKey, settings.previousMasterKeys ?? []);
  const checkpointKey = resolveCheckpointKey(settings.checkpointKeyPem, keys.current.auditCheckpoint);
  const sinks = settings.auditSinkEnv
    ? auditSinksFrom(settings.config.auditSinks, settings.auditSinkEnv, settings.clock ?? systemClock)
    : [];
  // A checkpoint key set apart (LEASEHOLD_CHECKPOINT_KEY) does not change with the master key.
  const previousCheckpointKeys =
    settings.checkpointKeyPem === undefined
      ? keys.previous.map((set) => checkpointKeyOf(set.auditCheckpoint))
      : [];
  return { keys, checkpointKey, previousCheckpointKeys, sinks };
}

/** Seals under the current master key's credentials key; opens under the previous ones' too. */
const credentialCipher = (keys: MasterKeyring) =>
  createCredentialCipher(
    { id: keys.current.id, key: keys.current.credentials },
    keys.previous.map((set) => ({ id: set.id, key: set.credentials })),
  );

/** The store's keys: the current master key's and, read only, the previous ones'. */
const storeKeys = (keys: MasterKeyring) => {
  const set = (k: MasterKeyring["current"]) => ({
    keyId: k.id,
    auditKey: k.auditChain,
    grantKey: k.grantRows,
  });
  return { ...set(keys.current), previous: keys.previous.map(set) };
};

/** Signs checkpoints with the resolved key; the broker holds only this port, never the key's config. */
const checkpointSigner = (key: CheckpointKey, previous: readonly CheckpointKey[]) => ({
  keyId: key.keyId,
  publicKeyPem: key.publicKeyPem,
  previous: previous.map(({ keyId, publicKeyPem }) => ({ keyId, publicKeyPem })),
  sign: (head: Parameters<typeof signCheckpoint>[1]) => signCheckpoint(key, head),
});

/**
 * The queue connection, with a PostgreSQL queue schema migrated first (through DATABASE_MIGRATION_URL
 * when set), as the database's own tables were just now.
 */
async function prepareQueues(settings: BrokerSettings): Promise<QueueConnection> {
  return settings.queue.backend === "postgres"
    ? prepareQueueSchema(settings.queue, settings.migrationUrl)
    : settings.queue;
}

/** Notifications through Slack: the use case over Slack's messenger and the notification queues. */
function slackNotifications(
  slack: NonNullable<BrokerSettings["slack"]>,
  config: LeaseholdConfig,
  producer: QueueProducer,
  deps: Omit<Parameters<typeof createNotificationService>[0], "messenger" | "queue" | "alertsChannel">,
  metrics: Metrics,
): NotificationService {
  const settings = config.slack ?? slackSettingsSchema.parse({});
  const client = createSlackClient(slack);
  return createNotificationService({
    ...deps,
    messenger: createSlackMessenger({
      client,
      identity: createSlackIdentity(settings, client),
      metrics,
    }),
    queue: notificationQueues(producer),
    alertsChannel: settings.alertsChannel,
  });
}
