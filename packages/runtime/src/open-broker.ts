import { randomUUID } from "node:crypto";
import {
  type Broker,
  createBroker,
  createCredentialCipher,
  type ExpiryOptions,
  type Logger,
  type ReconcileOptions,
  type RotationSetup,
  type TargetCatalog,
  targetCatalog,
} from "@leasehold/broker";
import {
  deriveKeys,
  type LeaseholdConfig,
  loadConfigFile,
  resolveMasterKey,
  sqlAdminUrlsFromEnv,
  vaultSettingsFromEnv,
} from "@leasehold/config";
import { createStore, type Database, openDatabase, type Store } from "@leasehold/db";
import { type Clock, systemClock } from "@leasehold/domain";
import {
  type AwsClientOptions,
  type CredentialProvider,
  createAwsClients,
  createAwsStsProvider,
  createDatabasePasswords,
  createSqlProvider,
  createVaultProvider,
  createVaultSession,
  type DatabasePasswords,
  providerRegistry,
  secretsManagerStore,
  type VaultSession,
  type VaultSettings,
  vaultKvStore,
} from "@leasehold/providers";
import {
  createQueueProducer,
  grantQueues,
  type QueueConnection,
  type QueueProducer,
  rotationRunJobId,
} from "@leasehold/queue";

export type BrokerSettings = {
  readonly config: LeaseholdConfig;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly queue: QueueConnection;
  readonly masterKey: Buffer;
  readonly aws: AwsClientOptions;
  /** Needed when a target has `kind: vault`. */
  readonly vault?: VaultSettings | undefined;
  /** Admin connection URL per `sql` target id, and per rotation (`rotation <id>`). */
  readonly sqlAdminUrls?: ReadonlyMap<string, string>;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly reconcile?: ReconcileOptions;
  readonly expiry?: ExpiryOptions;
};

export type OpenBroker = {
  readonly broker: Broker;
  readonly db: Database;
  readonly store: Store;
  /** Every queue, for apps that enqueue more than grant work (and for readiness checks). */
  readonly producer: QueueProducer;
  readonly targets: TargetCatalog;
  close(): Promise<void>;
};

/**
 * Opens everything the use cases need, the same way in every app: the database (migrated), the
 * queues, the providers and the credential cipher. Each app's main.ts calls this once.
 */
export async function openBroker(settings: BrokerSettings): Promise<OpenBroker> {
  const keys = deriveKeys(settings.masterKey);
  const db = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const producer = createQueueProducer(settings.queue);
  const targets = targetCatalog(settings.config.targets);
  const store = createStore(db, { auditKey: keys.auditChain });
  const aws = createAwsClients(settings.aws);
  const vault = settings.vault ? createVaultSession(settings.vault) : undefined;
  const providers = providersFor(settings, aws, vault);
  const passwords = createDatabasePasswords();
  const broker = createBroker(
    {
      store,
      targets,
      providers: providerRegistry(providers),
      queues: grantQueues(producer),
      cipher: createCredentialCipher(keys.credentials),
      clock: settings.clock ?? systemClock,
      newId: randomUUID,
      admins: settings.config.admins,
      log: settings.log,
    },
    {
      ...(settings.reconcile ? { reconcile: settings.reconcile } : {}),
      ...(settings.expiry ? { expiry: settings.expiry } : {}),
      rotation: rotationSetup(settings, aws, vault, passwords, producer),
    },
  );
  return {
    broker,
    db,
    store,
    producer,
    targets,
    async close() {
      await producer.close();
      await Promise.all([...providers.map((p) => p.close?.()), passwords.close()]);
      await db.close();
    },
  };
}

/** One provider per kind of target configured; STS is always there (it needs no connection). */
function providersFor(
  settings: BrokerSettings,
  aws: ReturnType<typeof createAwsClients>,
  vault: VaultSession | undefined,
): CredentialProvider[] {
  const kinds = new Set(settings.config.targets.map((t) => t.kind));
  const providers: CredentialProvider[] = [createAwsStsProvider(aws)];
  if (kinds.has("vault")) {
    if (!vault) throw new Error("a vault target is configured but no Vault settings were given");
    providers.push(createVaultProvider(vault));
  }
  if (kinds.has("sql")) {
    const urls = settings.sqlAdminUrls ?? new Map<string, string>();
    providers.push(
      createSqlProvider({
        adminUrlFor: (target) => {
          const url = urls.get(target.id);
          if (!url) throw new Error(`no admin connection URL for target ${target.id}`);
          return url;
        },
      }),
    );
  }
  return providers;
}

/** Rotations: where each secret lives and which database role it holds. */
function rotationSetup(
  settings: BrokerSettings,
  aws: ReturnType<typeof createAwsClients>,
  vault: VaultSession | undefined,
  passwords: DatabasePasswords,
  producer: QueueProducer,
): RotationSetup {
  const urls = settings.sqlAdminUrls ?? new Map<string, string>();
  return {
    rotations: new Map(settings.config.rotations.map((r) => [r.id, r])),
    passwords,
    secretStoreFor: (rotation) => {
      if ("awsSecretsManager" in rotation.secret) {
        return secretsManagerStore(aws.secretsManager, rotation.secret.awsSecretsManager.secretId);
      }
      if (!vault) throw new Error(`rotation ${rotation.id} uses Vault KV but no Vault settings were given`);
      return vaultKvStore(vault, rotation.secret.vaultKv.mount, rotation.secret.vaultKv.path);
    },
    enqueueRun: (run) => producer.add("rotationRun", run, rotationRunJobId(run.rotationId, run.triggerKey)),
    databaseFor: (rotation) => {
      const adminUrl = urls.get(rotationUrlKey(rotation.id));
      if (!adminUrl) throw new Error(`no admin connection URL for rotation ${rotation.id}`);
      return { engine: rotation.database.engine, adminUrl, username: rotation.database.username };
    },
  };
}

/** The key a rotation's admin URL is kept under, beside the targets' ones. */
const rotationUrlKey = (rotationId: string) => `rotation ${rotationId}`;

/** The variables openBroker's settings come from: the config package's core, database, Redis and AWS slices. */
export type BrokerEnv = {
  readonly LEASEHOLD_CONFIG: string;
  readonly LEASEHOLD_MASTER_KEY?: string | undefined;
  readonly LEASEHOLD_DATA_DIR: string;
  readonly LEASEHOLD_QUEUE_PREFIX: string;
  readonly DATABASE_URL?: string | undefined;
  readonly REDIS_URL: string;
  readonly AWS_REGION: string;
  readonly VAULT_ADDR?: string | undefined;
  readonly VAULT_TOKEN?: string | undefined;
  readonly VAULT_ROLE_ID?: string | undefined;
  readonly VAULT_SECRET_ID?: string | undefined;
  readonly VAULT_NAMESPACE?: string | undefined;
  /** The whole environment, for the variables targets name themselves (`sql.adminUrlEnv`). */
  readonly targetEnv: Readonly<Record<string, string | undefined>>;
};

/**
 * Loads leasehold.yaml and the master key as the environment says, then opens the broker. `config`
 * and `aws` replace what the environment would give (local mode generates both).
 */
export async function openBrokerFromEnv(
  env: BrokerEnv,
  log: Logger,
  overrides: {
    config?: LeaseholdConfig;
    aws?: AwsClientOptions;
    reconcile?: ReconcileOptions;
    expiry?: ExpiryOptions;
  } = {},
): Promise<OpenBroker & { config: LeaseholdConfig; queue: QueueConnection }> {
  const config = overrides.config ?? loadConfigFile(env.LEASEHOLD_CONFIG);
  const queue = { redisUrl: env.REDIS_URL, prefix: env.LEASEHOLD_QUEUE_PREFIX };
  const open = await openBroker({
    config,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.LEASEHOLD_DATA_DIR,
    queue,
    masterKey: resolveMasterKey({
      masterKey: env.LEASEHOLD_MASTER_KEY,
      databaseUrl: env.DATABASE_URL,
      dataDir: env.LEASEHOLD_DATA_DIR,
    }),
    aws: overrides.aws ?? { region: env.AWS_REGION },
    vault: vaultSettingsFromEnv(
      env,
      config.targets.some((t) => t.kind === "vault") || config.rotations.some((r) => "vaultKv" in r.secret),
    ),
    sqlAdminUrls: sqlAdminUrlsFromEnv(
      [...config.targets, ...config.rotations.map((r) => ({ id: rotationUrlKey(r.id), sql: r.database }))],
      env.targetEnv,
    ),
    log,
    ...(overrides.reconcile ? { reconcile: overrides.reconcile } : {}),
    ...(overrides.expiry ? { expiry: overrides.expiry } : {}),
  });
  return { ...open, config, queue };
}
