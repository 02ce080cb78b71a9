import { z } from "zod";
import { ConfigError } from "./config-error.js";

/**
 * Environment slices. Each app's env.ts composes the ones it needs and parses process.env once;
 * nothing else reads process.env (the AWS SDK reads its own standard variables itself).
 * Error messages never repeat a variable's value: it may be a secret.
 */

/**
 * The tables' owner, through which migrations run and DATABASE_URL's role is granted what it needs;
 * unset, DATABASE_URL's role migrates and owns the tables itself. Set it where schema changes are
 * applied (a release job, or one process); the others start on a current schema without it.
 */
const migrationUrl = z
  .string()
  .regex(/^postgres(?:ql)?:\/\/\S+$/, "must be a postgres:// URL (the role that owns Leasehold's tables)")
  .optional();

export const databaseEnv = {
  /** Unset: the embedded PGlite database under LEASEHOLD_DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\/\S+$/, "must be a postgres:// URL, or unset for the embedded database")
    .optional(),
  DATABASE_MIGRATION_URL: migrationUrl,
};

/**
 * DATABASE_URL for the worker and the Slack bot: separate processes, which must work on the API's own
 * database. The embedded database belongs to one process, so a worker or bot that opened its own would
 * take requests the API never sees (and keep a master key of its own).
 */
export const sharedDatabaseEnv = {
  DATABASE_URL: z
    .string({
      error:
        "required: this process must share the API's PostgreSQL database; the embedded database is only for local mode and a single-process API",
    })
    .regex(/^postgres(?:ql)?:\/\/\S+$/, "must be a postgres:// URL (the API's database)"),
  DATABASE_MIGRATION_URL: migrationUrl,
};

export const redisEnv = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
};

export const coreEnv = {
  /** Path of leasehold.yaml. */
  LEASEHOLD_CONFIG: z.string().min(1).max(4096).default("leasehold.yaml"),
  /** 32 random bytes, base64 or hex. Unset is allowed only with the embedded database (see master-key.ts). */
  LEASEHOLD_MASTER_KEY: z.string().optional(),
  /**
   * Retired master keys, comma-separated, each written as LEASEHOLD_MASTER_KEY is: read only, until
   * the background re-seal has moved everything to the current key (master-key.ts).
   */
  LEASEHOLD_MASTER_KEYS_PREVIOUS: z.string().max(2048).optional(),
  /**
   * An Ed25519 private key (PKCS#8 PEM) to sign the audit trail's checkpoints with. Unset: one derived
   * from the master key (checkpoint-key.ts).
   */
  LEASEHOLD_CHECKPOINT_KEY: z.string().min(1).max(4096).optional(),
  /** Where the embedded database and a generated local master key live. */
  LEASEHOLD_DATA_DIR: z.string().min(1).max(4096).default(".leasehold"),
  /**
   * Where the queues live: `redis` (REDIS_URL) or `postgres` (DATABASE_URL's database, in a schema of
   * their own). Unset: `postgres` when DATABASE_URL is set, `redis` on the embedded database; see
   * queueBackendFrom.
   */
  LEASEHOLD_QUEUE_BACKEND: z.enum(["redis", "postgres"]).optional(),
  /**
   * Names an installation's queues, so that several can share one store: the prefix of every Redis key
   * BullMQ writes, and on PostgreSQL the schema `queue_<prefix>` (dashes become underscores). On a
   * Redis Cluster it must be a hash tag, the whole prefix in braces (`{leasehold}`): BullMQ's scripts
   * touch several keys of a queue at once, which a cluster allows only when they share a slot, and a
   * key's slot is computed from its first `{…}` alone. Braces anywhere else would tag only part of it.
   */
  LEASEHOLD_QUEUE_PREFIX: z
    .string()
    .regex(
      /^(?:[a-z0-9][a-z0-9-]{0,39}|\{[a-z0-9][a-z0-9-]{0,37}\})$/,
      "must be 1–40 lower-case letters, digits and dashes, or such a name in braces ({leasehold}) for Redis Cluster",
    )
    .default("leasehold"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

export const workerEnv = {
  /** Seconds between reconciliation sweeps; also the worst-case lateness after Redis loses jobs. */
  LEASEHOLD_SWEEP_INTERVAL: z.coerce.number().int().min(1).max(3600).default(15),
  /** Jobs each queue runs at once in this process. */
  LEASEHOLD_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Seconds a job's lock lasts without renewal: how soon a crashed worker's jobs are run again. */
  LEASEHOLD_JOB_LOCK_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /**
   * Seconds after a grant's deadline before the sweep removes what revocation left at the provider
   * (an IAM deny): a margin for the provider's clock, which may still honour the session that long.
   * Shorter frees a crowded role's inline-policy room sooner; keep it above the clock skew you trust.
   */
  LEASEHOLD_RELEASE_MARGIN: z.coerce.number().int().min(1).max(3600).default(300),
};

export const slackBotEnv = {
  /** Where the bot's HTTP receiver listens for Slack's requests (`/slack/events`). */
  SLACK_BOT_HOST: z.string().min(1).max(255).default("127.0.0.1"),
  SLACK_BOT_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
};

/**
 * Prometheus' /metrics: the API serves it on its own port; the worker and the bot only when
 * METRICS_PORT is set. A token, when set, must come as `Authorization: Bearer <token>`.
 */
export const metricsEnv = {
  METRICS_HOST: z.string().trim().min(1).max(255).default("127.0.0.1"),
  METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  METRICS_TOKEN: z
    .string()
    .min(16, "METRICS_TOKEN must be at least 16 characters (openssl rand -hex 32)")
    .max(256)
    .regex(/^\S+$/, "METRICS_TOKEN may not contain spaces")
    .optional(),
};

/** OpenTelemetry traces (README, "Traces"): exported over OTLP/HTTP only when the endpoint is set. */
export const tracingEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, error: "must be the collector's http(s) URL, e.g. http://collector:4318" })
    .max(2048)
    .optional(),
};

export const httpEnv = {
  HOST: z.string().min(1).max(255).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
};

/** Parses the variables named in `shape`; a bad value stops the process with what to set. */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Readonly<Record<string, string | undefined>>,
): z.output<z.ZodObject<Shape>> {
  // Empty strings mean "unset": `FOO= cmd` should behave like leaving FOO out.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = z.object(shape).safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    "the environment",
    result.error.issues.map(
      (issue) => `${issue.path.join(".")}: ${issue.message.replace(/^Invalid input: /, "")}`,
    ),
  );
}

export const awsEnv = {
  /** Region for STS. Endpoints and credentials come from the SDK's own standard variables. */
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, "must be an AWS region like eu-west-1")
    .default("us-east-1"),
};

export const slackEnv = {
  /** The bot token (xoxb-…); without it no Slack notifications are sent. */
  SLACK_BOT_TOKEN: z
    .string()
    .regex(
      /^xoxb-[A-Za-z0-9-]{10,250}$/,
      "must be a bot token: xoxb- followed by 10–250 letters, digits and dashes (OAuth & Permissions → Bot User OAuth Token)",
    )
    .optional(),
  /** Verifies that HTTP requests come from Slack (required unless Socket Mode is used). */
  SLACK_SIGNING_SECRET: z
    .string()
    .regex(
      /^[a-f0-9]{32,64}$/,
      "must be the app's signing secret: 32–64 lower-case hex characters (Basic Information → App Credentials)",
    )
    .optional(),
  /**
   * The signing secret before SLACK_SIGNING_SECRET, accepted as well while switching secrets (README,
   * "Rotating Slack credentials without downtime"); unset once the switch is over.
   */
  SLACK_SIGNING_SECRET_PREVIOUS: z
    .string()
    .regex(/^[a-f0-9]{32,64}$/, "must be the app's previous signing secret: 32–64 lower-case hex characters")
    .optional(),
  /** App-level token (xapp-…) for Socket Mode, for development without a public URL. */
  SLACK_APP_TOKEN: z
    .string()
    .regex(
      /^xapp-[A-Za-z0-9-]{10,250}$/,
      "must be an app-level token: xapp- followed by 10–250 letters, digits and dashes (Basic Information → App-Level Tokens)",
    )
    .optional(),
  /** Where the Slack Web API is; tests point it at the stand-in. */
  SLACK_API_URL: z.url({ protocol: /^https?$/ }).optional(),
};

export const vaultEnv = {
  /** Vault's address, as Vault's own CLI reads it. Needed only when a target has `kind: vault`. */
  VAULT_ADDR: z
    .url({ protocol: /^https?$/, error: "must be Vault's URL, like https://vault.example.com:8200" })
    .optional(),
  VAULT_TOKEN: z.string().min(1).max(1000).optional(),
  VAULT_ROLE_ID: z.string().min(1).max(1000).optional(),
  VAULT_SECRET_ID: z.string().min(1).max(1000).optional(),
  VAULT_NAMESPACE: z.string().min(1).max(255).optional(),
};

type VaultEnv = { [K in keyof typeof vaultEnv]?: string | undefined };

/**
 * Vault connection settings from the environment, checked only when `needed` (a `vault` target, a
 * Vault KV rotation or the secret id rotation is configured): an address and exactly one way to log
 * in, AppRole when `appRoleRequired` (leasehold.yaml rotates the AppRole secret id).
 */
export function vaultSettingsFromEnv(
  env: VaultEnv,
  { needed, appRoleRequired = false }: { needed: boolean; appRoleRequired?: boolean },
) {
  if (!needed) return undefined;
  const problems: string[] = [];
  if (!env.VAULT_ADDR) problems.push("VAULT_ADDR: set Vault's address (a target has kind: vault)");
  const token = env.VAULT_TOKEN;
  const approle = env.VAULT_ROLE_ID !== undefined || env.VAULT_SECRET_ID !== undefined;
  if ((token !== undefined) === approle)
    problems.push("Set exactly one of VAULT_TOKEN or VAULT_ROLE_ID (with VAULT_SECRET_ID)");
  if (appRoleRequired && token !== undefined) {
    problems.push(
      "vault.appRole.rotateSecretId rotates an AppRole secret id: log in with VAULT_ROLE_ID and VAULT_SECRET_ID, not VAULT_TOKEN",
    );
  }
  if (approle && (!env.VAULT_ROLE_ID || !env.VAULT_SECRET_ID)) {
    problems.push("AppRole needs both VAULT_ROLE_ID and VAULT_SECRET_ID");
  }
  if (problems.length > 0 || !env.VAULT_ADDR) throw new ConfigError("the environment", problems);
  return {
    address: env.VAULT_ADDR,
    namespace: env.VAULT_NAMESPACE,
    auth:
      token !== undefined
        ? { token }
        : { roleId: env.VAULT_ROLE_ID ?? "", secretId: env.VAULT_SECRET_ID ?? "" },
  };
}

/**
 * The admin connection URL of each `sql` target (or rotation: pass `{ id, sql: database }`), from the
 * environment variable it names.
 * A missing variable stops the process with its name, never a value.
 */
export function sqlAdminUrlsFromEnv(
  targets: readonly { id: string; kind?: string; sql?: { adminUrlEnv: string } }[],
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const urls = new Map<string, string>();
  const problems: string[] = [];
  for (const target of targets) {
    if (!target.sql) continue;
    const value = env[target.sql.adminUrlEnv];
    if (!value) problems.push(`${target.sql.adminUrlEnv}: set the admin connection URL for ${target.id}`);
    else if (!/^(postgres(?:ql)?|mysql|mariadb):\/\/\S+$/.test(value)) {
      problems.push(`${target.sql.adminUrlEnv}: must be a postgres:// or mysql:// URL (for ${target.id})`);
    } else urls.set(target.id, value);
  }
  if (problems.length > 0) throw new ConfigError("the environment", problems);
  return urls;
}
