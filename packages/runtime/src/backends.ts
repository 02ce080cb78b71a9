import type { Rotation, RotationSetup } from "@leasehold/broker";
import { ConfigError, type LeaseholdConfig, type RotationConfig } from "@leasehold/config";
import { turnSocket } from "@leasehold/db";
import {
  alternatingRoles,
  type CredentialProvider,
  type createAwsClients,
  createAwsStsProvider,
  createSqlProvider,
  createVaultProvider,
  type DatabasePasswords,
  type RotatedCredential,
  rotatedIamAccessKey,
  rotatedRole,
  type SecretStore,
  secretsManagerStore,
  type VaultSession,
  vaultKvStore,
} from "@leasehold/providers";
import { type QueueProducer, rotationRunJobId } from "@leasehold/queue";

type AwsClients = ReturnType<typeof createAwsClients>;

/** What the backends are opened with: the configuration and the connections made from the environment. */
export type Backends = {
  readonly config: LeaseholdConfig;
  readonly aws: AwsClients;
  readonly vault: VaultSession | undefined;
  /** Admin connection URL per `sql` target id, and per rotation (`rotationUrlKey`). */
  readonly sqlAdminUrls: ReadonlyMap<string, string>;
};

/** The key a rotation's admin URL is kept under, beside the targets' ones. */
export const rotationUrlKey = (rotationId: string) => `rotation ${rotationId}`;

/**
 * One provider per kind of target configured; STS is always there (it needs no connection). A
 * setting a target needs and does not have stops the process with a configuration error, at start.
 */
export function providersFor({ config, aws, vault, sqlAdminUrls }: Backends): CredentialProvider[] {
  const providers: CredentialProvider[] = [createAwsStsProvider(aws)];
  const problems: string[] = [];
  if (config.targets.some((t) => t.kind === "vault")) {
    if (vault) providers.push(createVaultProvider(vault));
    else problems.push("a target has kind: vault, but no Vault settings were given (VAULT_ADDR)");
  }
  const sqlTargets = config.targets.filter((t) => t.kind === "sql");
  for (const target of sqlTargets) {
    if (!sqlAdminUrls.has(target.id)) problems.push(`no admin connection URL for target ${target.id}`);
  }
  if (sqlTargets.length > 0) {
    providers.push(
      createSqlProvider({
        // A lease's statements, sent together, leave in one write, as on Leasehold's own database.
        postgresSocket: turnSocket,
        adminUrlFor: (target) => {
          const url = sqlAdminUrls.get(target.id);
          // Checked above for every sql target, so this cannot happen while the process runs.
          if (!url) throw new Error(`no admin connection URL for target ${target.id}`);
          return url;
        },
      }),
    );
  }
  if (problems.length > 0) throw new ConfigError("the environment", problems);
  return providers;
}

/** A rotation's database users: one role rotated in place, or two taking turns (`alternateUsername`). */
function databaseCredential(
  database: NonNullable<RotationConfig["database"]>,
  passwordLength: number,
  adminUrl: string,
  passwords: DatabasePasswords,
) {
  const { engine, username, alternateUsername, cloneAlternate } = database;
  return alternateUsername === undefined
    ? rotatedRole(passwords, { engine, adminUrl, username, passwordLength })
    : alternatingRoles(passwords, {
        engine,
        adminUrl,
        usernames: [username, alternateUsername],
        passwordLength,
        clone: cloneAlternate,
      });
}

/**
 * Rotations: each one's secret store and rotated credential, built once here, and Leasehold's own
 * (`own`: its Vault secret id). A rotation that names a backend this installation has no settings for
 * stops the broker from opening, with its id.
 */
export function rotationSetup(
  { config, aws, vault, sqlAdminUrls }: Backends,
  passwords: DatabasePasswords,
  producer: Pick<QueueProducer, "add">,
  own: readonly Rotation[] = [],
): RotationSetup {
  const problems: string[] = [];
  const secretStoreFor = (rotation: RotationConfig): SecretStore | undefined => {
    if ("awsSecretsManager" in rotation.secret) {
      return secretsManagerStore(aws.secretsManager, rotation.secret.awsSecretsManager.secretId);
    }
    if (vault) return vaultKvStore(vault, rotation.secret.vaultKv.mount, rotation.secret.vaultKv.path);
    problems.push(`rotation ${rotation.id} uses Vault KV, but no Vault settings were given (VAULT_ADDR)`);
    return undefined;
  };
  const credentialFor = (rotation: RotationConfig): RotatedCredential | undefined => {
    if (rotation.awsIamUser && "awsSecretsManager" in rotation.secret) {
      // The configuration allows an IAM user only with a Secrets Manager secret.
      const secret = secretsManagerStore(aws.secretsManager, rotation.secret.awsSecretsManager.secretId);
      return rotatedIamAccessKey({ iam: aws.iam, stsWith: aws.stsWith, secret }, rotation.awsIamUser);
    }
    const adminUrl = sqlAdminUrls.get(rotationUrlKey(rotation.id));
    if (!rotation.database || !adminUrl) {
      problems.push(`no admin connection URL for rotation ${rotation.id}`);
      return undefined;
    }
    return databaseCredential(rotation.database, rotation.password.length, adminUrl, passwords);
  };
  const rotations = new Map<string, Rotation>(own.map((rotation) => [rotation.config.id, rotation]));
  for (const rotation of config.rotations) {
    const secret = secretStoreFor(rotation);
    const credential = credentialFor(rotation);
    if (secret && credential) rotations.set(rotation.id, { config: rotation, secret, credential });
  }
  if (problems.length > 0) throw new ConfigError("the environment", problems);
  return {
    rotations,
    enqueueRun: (run, delayMs) =>
      producer.add("rotationRun", run, rotationRunJobId(run.rotationId, run.triggerKey), delayMs),
  };
}
