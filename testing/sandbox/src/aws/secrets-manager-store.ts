import { randomBytes } from "node:crypto";
import { AwsQueryError } from "./aws-query-error.js";
import { AWSCURRENT, AWSPREVIOUS, SECRETS_MANAGER_LIMITS } from "./secrets-manager-limits.js";

/**
 * The secrets the stand-in holds and the rules for their versions and staging labels, kept apart from
 * the wire format. Every refusal is an AwsQueryError carrying the JSON error type and HTTP status.
 *
 * Invariants: a label is on at most one version of a secret; a secret carries at most 20 labels; it has
 * at most 100 versions, and only unlabelled ones at least 24 hours old are ever dropped. A change is
 * worked out on a copy of the versions and committed whole, so a refused call changes nothing.
 */

export type StoredVersion = {
  versionId: string;
  secretString: string;
  createdAt: Date;
  /** In the order they were attached; empty means deprecated. */
  stages: string[];
  /** Midnight UTC of the last GetSecretValue of this version (AWS keeps only the date). */
  lastAccessedAt: Date | undefined;
};

export type StoredSecret = {
  arn: string;
  name: string;
  account: string;
  region: string;
  description: string | undefined;
  createdAt: Date;
  lastChangedAt: Date;
  lastAccessedAt: Date | undefined;
  /** Oldest first. */
  versions: StoredVersion[];
};

/** Secrets by `<account>:<region>:<name>`: names are unique per account and region, as in AWS. */
export type SecretsStore = Map<string, StoredSecret>;

/** Whose request it is and where it was sent: the account of the signing principal, the signed region. */
export type SecretsCaller = { account: string; partition: string; region: string };

export const secretKey = (account: string, region: string, name: string): string =>
  `${account}:${region}:${name}`;

export const secretsError = (status: number, type: string, message: string): AwsQueryError =>
  new AwsQueryError(status, type, message);

export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";

const notFound = (message = SECRET_NOT_FOUND) => secretsError(400, "ResourceNotFoundException", message);

const versionNotFound = (versionId: string) =>
  notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);

export const INVALID_NAME_MESSAGE =
  "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The 6 characters Secrets Manager appends to a name in the ARN. */
const arnSuffix = (source: Buffer): string =>
  Array.from(source.subarray(0, 6), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join("");

const secretArn = (caller: SecretsCaller, name: string, suffix: string): string =>
  `arn:${caller.partition}:secretsmanager:${caller.region}:${caller.account}:secret:${name}-${suffix}`;

/** A complete ARN ends in `-` and 6 characters; anything shorter is a partial ARN (`…:secret:<name>`). */
const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]*):(\d{12}):secret:(.+)$/;
const COMPLETE_ARN_TAIL = /-[A-Za-z0-9]{6}$/;

/**
 * The secret a SecretId names: a name in the caller's account and region, a complete ARN, or a partial
 * ARN (the ARN without the final `-xxxxxx`). As AWS warns, an ARN whose name part ends in a hyphen and
 * six characters is taken as complete. A secret of another account is refused because the stand-in
 * models only the default `aws/secretsmanager` key, which does not work across accounts.
 */
export function findSecret(store: SecretsStore, caller: SecretsCaller, secretId: string): StoredSecret {
  const arn = SECRET_ARN.exec(secretId);
  if (arn === null) {
    if (secretId.startsWith("arn:")) throw notFound();
    if (!SECRETS_MANAGER_LIMITS.name.pattern.test(secretId)) {
      throw secretsError(400, "ValidationException", INVALID_NAME_MESSAGE);
    }
    const secret = store.get(secretKey(caller.account, caller.region, secretId));
    if (secret === undefined) throw notFound();
    return secret;
  }
  const [, , region = "", account = "", rest = ""] = arn;
  if (region !== caller.region) throw notFound();
  const secret = COMPLETE_ARN_TAIL.test(rest)
    ? [...store.values()].find((candidate) => candidate.arn === secretId)
    : store.get(secretKey(account, region, rest));
  if (secret === undefined) throw notFound();
  if (secret.account !== caller.account) {
    throw secretsError(
      400,
      "InvalidRequestException",
      "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.",
    );
  }
  return secret;
}

/** The version carrying `stage`, if any. */
export const versionWithStage = (versions: readonly StoredVersion[], stage: string) =>
  versions.find((version) => version.stages.includes(stage));

/** The version `versionId`, or ResourceNotFoundException. */
export function versionById(secret: StoredSecret, versionId: string): StoredVersion {
  const version = secret.versions.find((candidate) => candidate.versionId === versionId);
  if (version === undefined) throw versionNotFound(versionId);
  return version;
}

const copyVersions = (versions: readonly StoredVersion[]): StoredVersion[] =>
  versions.map((version) => ({ ...version, stages: [...version.stages] }));

/**
 * Attaches `stage` to `target`, taking it off the version that had it. Moving AWSCURRENT gives the
 * version it left AWSPREVIOUS, which leaves whichever version had it (the target too, on a roll-back).
 */
function moveStage(versions: StoredVersion[], stage: string, target: StoredVersion): void {
  const holder = versionWithStage(versions, stage);
  if (holder === target) return;
  if (holder !== undefined) holder.stages = holder.stages.filter((label) => label !== stage);
  target.stages.push(stage);
  if (stage === AWSCURRENT && holder !== undefined) {
    for (const version of versions) version.stages = version.stages.filter((label) => label !== AWSPREVIOUS);
    holder.stages.push(AWSPREVIOUS);
  }
}

/**
 * Checks the quotas on a changed copy of a secret's versions and drops what AWS would drop: beyond 100
 * versions, the oldest unlabelled ones that are at least 24 hours old. Throws LimitExceededException
 * when the labels or the versions are still over quota.
 */
function enforceQuotas(versions: StoredVersion[], now: Date): StoredVersion[] {
  const labels = new Set(versions.flatMap((version) => version.stages));
  if (labels.size > SECRETS_MANAGER_LIMITS.maxLabelsPerSecret) {
    throw secretsError(
      400,
      "LimitExceededException",
      `A secret can have at most ${SECRETS_MANAGER_LIMITS.maxLabelsPerSecret} staging labels across all of its versions.`,
    );
  }
  const { maxVersionsPerSecret, deprecatedVersionMinAgeSeconds } = SECRETS_MANAGER_LIMITS;
  let excess = versions.length - maxVersionsPerSecret;
  if (excess <= 0) return versions;
  const oldEnough = now.getTime() - deprecatedVersionMinAgeSeconds * 1000;
  const kept = versions.filter((version) => {
    const droppable = version.stages.length === 0 && version.createdAt.getTime() <= oldEnough;
    if (droppable && excess > 0) {
      excess -= 1;
      return false;
    }
    return true;
  });
  if (excess > 0) {
    throw secretsError(
      400,
      "LimitExceededException",
      `The secret already has ${maxVersionsPerSecret} versions. Secrets Manager removes unlabeled versions only once they are 24 hours old; store new values less often.`,
    );
  }
  return kept;
}

export type NewSecret = {
  name: string;
  description: string | undefined;
  clientRequestToken: string;
  secretString: string | undefined;
};

/**
 * CreateSecret: a new secret, with a first version (AWSCURRENT) when a value is given. Repeating a
 * call with the same token and value (an SDK retry) answers the secret as it is; any other call for an
 * existing name is ResourceExistsException.
 */
export function createSecret(
  store: SecretsStore,
  caller: SecretsCaller,
  input: NewSecret,
  now: Date,
  arnSuffixSource: Buffer = randomBytes(6),
): { secret: StoredSecret; version: StoredVersion | undefined } {
  const key = secretKey(caller.account, caller.region, input.name);
  const existing = store.get(key);
  if (existing !== undefined) {
    const retried = existing.versions.find((version) => version.versionId === input.clientRequestToken);
    if (retried !== undefined && input.secretString === retried.secretString) {
      return { secret: existing, version: retried };
    }
    throw secretsError(
      400,
      "ResourceExistsException",
      `The operation failed because the secret ${input.name} already exists.`,
    );
  }
  const version: StoredVersion | undefined =
    input.secretString === undefined
      ? undefined
      : {
          versionId: input.clientRequestToken,
          secretString: input.secretString,
          createdAt: now,
          stages: [AWSCURRENT],
          lastAccessedAt: undefined,
        };
  const secret: StoredSecret = {
    arn: secretArn(caller, input.name, arnSuffix(arnSuffixSource)),
    name: input.name,
    account: caller.account,
    region: caller.region,
    description: input.description,
    createdAt: now,
    lastChangedAt: now,
    lastAccessedAt: undefined,
    versions: version === undefined ? [] : [version],
  };
  store.set(key, secret);
  return { secret, version };
}

/**
 * PutSecretValue: a new version with `stages` (default AWSCURRENT; the first version of a secret always
 * gets AWSCURRENT). A version with this token already existing is a no-op for the same value and
 * ResourceExistsException for another.
 */
export function putSecretValue(
  secret: StoredSecret,
  input: { clientRequestToken: string; secretString: string; stages: readonly string[] | undefined },
  now: Date,
): StoredVersion {
  const existing = secret.versions.find((version) => version.versionId === input.clientRequestToken);
  if (existing !== undefined) {
    if (existing.secretString === input.secretString) return existing;
    throw secretsError(
      400,
      "ResourceExistsException",
      "You can't modify an existing version, you can only create a new version.",
    );
  }
  const versions = copyVersions(secret.versions);
  const version: StoredVersion = {
    versionId: input.clientRequestToken,
    secretString: input.secretString,
    createdAt: now,
    stages: [],
    lastAccessedAt: undefined,
  };
  const first = versions.length === 0;
  versions.push(version);
  const stages = new Set(input.stages ?? [AWSCURRENT]);
  if (first) stages.add(AWSCURRENT);
  for (const stage of stages) moveStage(versions, stage, version);
  secret.versions = enforceQuotas(versions, now);
  secret.lastChangedAt = now;
  return version;
}

/**
 * UpdateSecretVersionStage. A label attached to some version can only be moved or removed by naming that
 * version in `removeFromVersionId` (InvalidParameterException otherwise, as AWS refuses). Moving
 * AWSCURRENT gives the version it left AWSPREVIOUS. Removing AWSCURRENT without moving it is refused.
 */
export function updateSecretVersionStage(
  secret: StoredSecret,
  input: { stage: string; moveToVersionId: string | undefined; removeFromVersionId: string | undefined },
  now: Date,
): void {
  const { stage, moveToVersionId, removeFromVersionId } = input;
  if (moveToVersionId === undefined && removeFromVersionId === undefined) {
    throw secretsError(
      400,
      "InvalidParameterException",
      "You must specify MoveToVersionId, RemoveFromVersionId or both.",
    );
  }
  const versions = copyVersions(secret.versions);
  const find = (versionId: string) => {
    const version = versions.find((candidate) => candidate.versionId === versionId);
    if (version === undefined) throw versionNotFound(versionId);
    return version;
  };
  const target = moveToVersionId === undefined ? undefined : find(moveToVersionId);
  const removeFrom = removeFromVersionId === undefined ? undefined : find(removeFromVersionId);
  const holder = versionWithStage(versions, stage);
  if (removeFrom !== undefined && removeFrom !== holder) {
    throw secretsError(
      400,
      "InvalidParameterException",
      holder === undefined
        ? `Staging label ${stage} is not attached to version ${removeFrom.versionId} named in RemoveFromVersionId.`
        : `Staging label ${stage} is currently attached to version ${holder.versionId}, not to version ${removeFrom.versionId} named in RemoveFromVersionId.`,
    );
  }
  if (target === undefined) {
    if (stage === AWSCURRENT) {
      throw secretsError(
        400,
        "InvalidParameterException",
        "You can't remove the staging label AWSCURRENT without moving it to another version (MoveToVersionId).",
      );
    }
    if (removeFrom !== undefined) removeFrom.stages = removeFrom.stages.filter((label) => label !== stage);
  } else {
    if (holder !== undefined && holder !== target && removeFrom === undefined) {
      throw secretsError(
        400,
        "InvalidParameterException",
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    moveStage(versions, stage, target);
  }
  secret.versions = enforceQuotas(versions, now);
  secret.lastChangedAt = now;
}

/** Records GetSecretValue's access date (midnight UTC, the resolution AWS reports). */
export function recordAccess(secret: StoredSecret, version: StoredVersion, now: Date): void {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  secret.lastAccessedAt = day;
  version.lastAccessedAt = day;
}
