import { dirname } from "node:path";
import type { ExpiryOptions, Logger, ReconcileOptions } from "@leasehold/broker";
import {
  ConfigError,
  type LeaseholdConfig,
  loadConfigFile,
  loadPolicyEngine,
  parsePreviousMasterKeys,
  type QueueBackend,
  queueBackendFrom,
  resolveMasterKey,
  sqlAdminUrlsFromEnv,
  vaultSettingsFromEnv,
} from "@leasehold/config";
import {
  type AwsClientOptions,
  createOnCallSourceFromSettings,
  type OnCallSource,
  pagerDutyWebhookSecrets,
} from "@leasehold/providers";
import { type QueueConnection, queueSchemaFor } from "@leasehold/queue";
import { rotationUrlKey } from "./backends.js";
import { type BrokerSettings, type OpenBroker, openBroker } from "./open-broker.js";

/** The variables openBroker's settings come from: the config package's core, database, Redis and AWS slices. */
export type BrokerEnv = {
  readonly LEASEHOLD_CONFIG: string;
  readonly LEASEHOLD_MASTER_KEY?: string | undefined;
  readonly LEASEHOLD_MASTER_KEYS_PREVIOUS?: string | undefined;
  readonly LEASEHOLD_CHECKPOINT_KEY?: string | undefined;
  readonly LEASEHOLD_DATA_DIR: string;
  readonly LEASEHOLD_QUEUE_BACKEND?: QueueBackend | undefined;
  readonly LEASEHOLD_QUEUE_PREFIX: string;
  readonly DATABASE_URL?: string | undefined;
  readonly DATABASE_MIGRATION_URL?: string | undefined;
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
    slack?: BrokerSettings["slack"];
    /** Replaces the on-call source leasehold.yaml's onCall block would make (local mode's stand-in). */
    onCall?: OnCallSource;
    metrics?: BrokerSettings["metrics"];
    /** Open leasehold.yaml's audit sinks and export to them (the worker). */
    exportAudit?: boolean;
  } = {},
): Promise<OpenBroker> {
  const config = overrides.config ?? loadConfigFile(env.LEASEHOLD_CONFIG);
  // Policy files are named relative to leasehold.yaml; a generated configuration has none of its own.
  const policy = loadPolicyEngine(config, overrides.config ? process.cwd() : dirname(env.LEASEHOLD_CONFIG));
  const queue = queueConnectionFrom(env);
  const masterKey = resolveMasterKey({
    masterKey: env.LEASEHOLD_MASTER_KEY,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.LEASEHOLD_DATA_DIR,
  });
  return openBroker({
    config,
    policy,
    ...(overrides.onCall ? { onCall: overrides.onCall } : onCallFromEnv(config, env.targetEnv)),
    databaseUrl: env.DATABASE_URL,
    migrationUrl: env.DATABASE_MIGRATION_URL,
    dataDir: env.LEASEHOLD_DATA_DIR,
    queue,
    masterKey,
    previousMasterKeys: parsePreviousMasterKeys(env.LEASEHOLD_MASTER_KEYS_PREVIOUS, masterKey),
    checkpointKeyPem: env.LEASEHOLD_CHECKPOINT_KEY,
    aws: overrides.aws ?? { region: env.AWS_REGION },
    vault: vaultSettingsFromEnv(env, {
      needed:
        config.targets.some((t) => t.kind === "vault") ||
        config.rotations.some((r) => "vaultKv" in r.secret) ||
        config.vault?.appRole.rotateSecretId !== undefined,
      appRoleRequired: config.vault?.appRole.rotateSecretId !== undefined,
    }),
    sqlAdminUrls: sqlAdminUrlsFromEnv(
      [
        ...config.targets,
        ...config.rotations.map((r) => ({
          id: rotationUrlKey(r.id),
          ...(r.database ? { sql: r.database } : {}),
        })),
      ],
      env.targetEnv,
    ),
    log,
    ...(overrides.reconcile ? { reconcile: overrides.reconcile } : {}),
    ...(overrides.expiry ? { expiry: overrides.expiry } : {}),
    ...(overrides.slack ? { slack: overrides.slack } : {}),
    ...(overrides.metrics ? { metrics: overrides.metrics } : {}),
    ...(overrides.exportAudit ? { auditSinkEnv: env.targetEnv } : {}),
  });
}

/**
 * Where the queues live, as LEASEHOLD_QUEUE_BACKEND says (or its default): Redis under the queue
 * prefix, or DATABASE_URL's database in the prefix's schema. With PostgreSQL, REDIS_URL is not used.
 */
export function queueConnectionFrom(env: BrokerEnv): QueueConnection {
  const backend = queueBackendFrom(env);
  if (backend === "postgres" && env.DATABASE_URL) {
    return { backend, databaseUrl: env.DATABASE_URL, schema: queueSchemaFor(env.LEASEHOLD_QUEUE_PREFIX) };
  }
  return { backend: "redis", redisUrl: env.REDIS_URL, prefix: env.LEASEHOLD_QUEUE_PREFIX };
}

/**
 * The on-call source leasehold.yaml's `onCall` block names and PagerDuty's webhook secrets, read from
 * the variables it names; a named variable that is unset stops the process.
 */
function onCallFromEnv(
  config: LeaseholdConfig,
  env: Readonly<Record<string, string | undefined>>,
): { onCall?: OnCallSource; pagerDutyWebhookSecrets?: string[] } {
  if (config.onCall.pagerduty === undefined && config.onCall.opsgenie === undefined) return {};
  try {
    return {
      onCall: createOnCallSourceFromSettings(config.onCall, env),
      pagerDutyWebhookSecrets: pagerDutyWebhookSecrets(config.onCall, env),
    };
  } catch (error) {
    throw new ConfigError("the environment", [(error as Error).message]);
  }
}
