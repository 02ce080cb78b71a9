import { SECRETS_MANAGER_LIMITS as LIMITS } from "./secrets-manager-limits.js";
import {
  createSecret,
  findSecret,
  INVALID_NAME_MESSAGE,
  putSecretValue,
  recordAccess,
  type SecretsCaller,
  type SecretsStore,
  type StoredSecret,
  type StoredVersion,
  secretsError,
  updateSecretVersionStage,
  versionById,
  versionWithStage,
} from "./secrets-manager-store.js";
import {
  checkLength,
  checkRange,
  checkStringList,
  epochSeconds,
  type JsonObject,
  type Problems,
  readBoolean,
  readInteger,
  readString,
  readStringList,
  throwProblems,
} from "./secrets-manager-wire.js";

/**
 * The Secrets Manager operations the stand-in serves: each checks its input against the API model
 * (all broken constraints reported together as ValidationException), applies the store's rules and
 * answers with the members AWS documents. Anything else is UnknownOperationException.
 */
export const SECRETS_MANAGER_OPERATIONS = [
  "CreateSecret",
  "GetSecretValue",
  "PutSecretValue",
  "UpdateSecretVersionStage",
  "DescribeSecret",
  "ListSecretVersionIds",
] as const;

export type SecretsManagerOperation = (typeof SECRETS_MANAGER_OPERATIONS)[number];

export type SecretsManagerContext = { store: SecretsStore; caller: SecretsCaller; now: Date };

type Handler = (context: SecretsManagerContext, input: JsonObject) => JsonObject;

const MISSING_TOKEN = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";

/** SecretId: required, 1–2048 characters. */
function readSecretId(problems: Problems, input: JsonObject): string {
  const secretId = readString(input, "SecretId");
  checkLength(problems, "SecretId", secretId, LIMITS.secretId, { required: true });
  return secretId ?? "";
}

/**
 * The secret value of CreateSecret or PutSecretValue. SecretBinary is refused: the stand-in models
 * text secrets only, and a binary one accepted but not kept would make a test lie.
 */
function readSecretString(problems: Problems, input: JsonObject): string | undefined {
  if (input.SecretBinary !== undefined && input.SecretBinary !== null) {
    throw secretsError(
      400,
      "InvalidRequestException",
      "The stand-in does not model SecretBinary; store the value in SecretString.",
    );
  }
  const secretString = readString(input, "SecretString");
  checkLength(problems, "SecretString", secretString, LIMITS.secretString, { sensitive: true });
  return secretString;
}

/**
 * ClientRequestToken: the SDK always fills it in; a raw request without one is refused, as AWS does
 * (checked after the model constraints, which are the framework's).
 */
function readClientRequestToken(problems: Problems, input: JsonObject): string | undefined {
  const token = readString(input, "ClientRequestToken");
  checkLength(problems, "ClientRequestToken", token, LIMITS.versionId);
  return token;
}

const requireToken = (token: string | undefined): string => {
  if (token === undefined) throw secretsError(400, "InvalidRequestException", MISSING_TOKEN);
  return token;
};

const identity = (secret: StoredSecret) => ({ ARN: secret.arn, Name: secret.name });

/** VersionStages as AWS lists them: omitted for a deprecated version (the model's list has min 1). */
const stagesMember = (version: StoredVersion) =>
  version.stages.length === 0 ? {} : { VersionStages: [...version.stages] };

const createSecretHandler: Handler = ({ store, caller, now }, input) => {
  const problems: Problems = [];
  const name = readString(input, "Name");
  checkLength(problems, "Name", name, LIMITS.name, { required: true });
  const description = readString(input, "Description");
  checkLength(problems, "Description", description, LIMITS.description);
  const token = readClientRequestToken(problems, input);
  const secretString = readSecretString(problems, input);
  throwProblems(problems);
  const clientRequestToken = requireToken(token);
  if (!LIMITS.name.pattern.test(name ?? "")) {
    throw secretsError(400, "ValidationException", INVALID_NAME_MESSAGE);
  }
  const { secret, version } = createSecret(
    store,
    caller,
    { name: name ?? "", description, clientRequestToken, secretString },
    now,
  );
  return { ...identity(secret), ...(version === undefined ? {} : { VersionId: version.versionId }) };
};

const getSecretValueHandler: Handler = ({ store, caller, now }, input) => {
  const problems: Problems = [];
  const secretId = readSecretId(problems, input);
  const versionId = readString(input, "VersionId");
  checkLength(problems, "VersionId", versionId, LIMITS.versionId);
  const versionStage = readString(input, "VersionStage");
  checkLength(problems, "VersionStage", versionStage, LIMITS.versionStage);
  throwProblems(problems);
  const secret = findSecret(store, caller, secretId);
  let version: StoredVersion;
  if (versionId !== undefined) {
    version = versionById(secret, versionId);
    if (versionStage !== undefined && !version.stages.includes(versionStage)) {
      throw secretsError(
        400,
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.",
      );
    }
  } else {
    const stage = versionStage ?? "AWSCURRENT";
    const staged = versionWithStage(secret.versions, stage);
    if (staged === undefined) {
      throw secretsError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
    }
    version = staged;
  }
  recordAccess(secret, version, now);
  return {
    ...identity(secret),
    VersionId: version.versionId,
    SecretString: version.secretString,
    ...stagesMember(version),
    CreatedDate: epochSeconds(version.createdAt),
  };
};

const putSecretValueHandler: Handler = ({ store, caller, now }, input) => {
  const problems: Problems = [];
  const secretId = readSecretId(problems, input);
  const token = readClientRequestToken(problems, input);
  const secretString = readSecretString(problems, input);
  const stages = readStringList(input, "VersionStages");
  checkStringList(problems, "VersionStages", stages, LIMITS.versionStagesPerCall, LIMITS.versionStage);
  throwProblems(problems);
  const clientRequestToken = requireToken(token);
  if (secretString === undefined) {
    throw secretsError(
      400,
      "InvalidRequestException",
      "You must provide either SecretString or SecretBinary.",
    );
  }
  const secret = findSecret(store, caller, secretId);
  const version = putSecretValue(secret, { clientRequestToken, secretString, stages }, now);
  return { ...identity(secret), VersionId: version.versionId, ...stagesMember(version) };
};

const updateSecretVersionStageHandler: Handler = ({ store, caller, now }, input) => {
  const problems: Problems = [];
  const secretId = readSecretId(problems, input);
  const stage = readString(input, "VersionStage");
  checkLength(problems, "VersionStage", stage, LIMITS.versionStage, { required: true });
  const moveToVersionId = readString(input, "MoveToVersionId");
  checkLength(problems, "MoveToVersionId", moveToVersionId, LIMITS.versionId);
  const removeFromVersionId = readString(input, "RemoveFromVersionId");
  checkLength(problems, "RemoveFromVersionId", removeFromVersionId, LIMITS.versionId);
  throwProblems(problems);
  const secret = findSecret(store, caller, secretId);
  updateSecretVersionStage(secret, { stage: stage ?? "", moveToVersionId, removeFromVersionId }, now);
  return identity(secret);
};

/** Only labelled versions, as AWS lists them (deprecated ones are left out). */
function versionIdsToStages(secret: StoredSecret): JsonObject {
  const labelled = secret.versions.filter((version) => version.stages.length > 0);
  if (labelled.length === 0) return {};
  return {
    VersionIdsToStages: Object.fromEntries(
      labelled.map((version) => [version.versionId, [...version.stages]]),
    ),
  };
}

/** RotationEnabled is left out: AWS sends it only once rotation was configured, which the stand-in does not model. */
const describeSecretHandler: Handler = ({ store, caller }, input) => {
  const problems: Problems = [];
  const secretId = readSecretId(problems, input);
  throwProblems(problems);
  const secret = findSecret(store, caller, secretId);
  return {
    ...identity(secret),
    ...(secret.description === undefined ? {} : { Description: secret.description }),
    LastChangedDate: epochSeconds(secret.lastChangedAt),
    ...(secret.lastAccessedAt === undefined ? {} : { LastAccessedDate: epochSeconds(secret.lastAccessedAt) }),
    ...versionIdsToStages(secret),
    CreatedDate: epochSeconds(secret.createdAt),
  };
};

/** NextToken is an opaque offset into the newest-first list. */
const encodeNextToken = (offset: number) => Buffer.from(`v1:${offset}`).toString("base64");

function decodeNextToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const match = /^v1:(\d{1,4})$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (match?.[1] === undefined) {
    throw secretsError(400, "InvalidNextTokenException", "You provided an invalid NextToken value.");
  }
  return Number.parseInt(match[1], 10);
}

const listSecretVersionIdsHandler: Handler = ({ store, caller }, input) => {
  const problems: Problems = [];
  const secretId = readSecretId(problems, input);
  const maxResults = readInteger(input, "MaxResults");
  checkRange(problems, "MaxResults", maxResults, LIMITS.maxResults);
  const nextToken = readString(input, "NextToken");
  const includeDeprecated = readBoolean(input, "IncludeDeprecated") ?? false;
  throwProblems(problems);
  const secret = findSecret(store, caller, secretId);
  const offset = decodeNextToken(nextToken);
  const versions = secret.versions
    .filter((version) => includeDeprecated || version.stages.length > 0)
    .reverse();
  const end = offset + (maxResults ?? LIMITS.maxResults.max);
  return {
    Versions: versions.slice(offset, end).map((version) => ({
      VersionId: version.versionId,
      ...stagesMember(version),
      ...(version.lastAccessedAt === undefined
        ? {}
        : { LastAccessedDate: epochSeconds(version.lastAccessedAt) }),
      CreatedDate: epochSeconds(version.createdAt),
    })),
    ...(end < versions.length ? { NextToken: encodeNextToken(end) } : {}),
    ...identity(secret),
  };
};

export const SECRETS_MANAGER_HANDLERS = {
  CreateSecret: createSecretHandler,
  GetSecretValue: getSecretValueHandler,
  PutSecretValue: putSecretValueHandler,
  UpdateSecretVersionStage: updateSecretVersionStageHandler,
  DescribeSecret: describeSecretHandler,
  ListSecretVersionIds: listSecretVersionIdsHandler,
} satisfies Record<SecretsManagerOperation, Handler>;
