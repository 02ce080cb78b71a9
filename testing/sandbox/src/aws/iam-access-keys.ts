import { randomBytes } from "node:crypto";
import { checkString } from "./aws-limits.js";
import { AwsQueryError, constraintProblem, validationError } from "./aws-query-error.js";
import { element, isoSeconds } from "./aws-query-xml.js";
import { deterministicId, type Principal, type SandboxState } from "./aws-sandbox-state.js";
import type { SandboxAccessKeyRecord, SandboxUserConfig } from "./aws-sandbox-types.js";
import type { AccessKey, IamUser, IamUsers } from "./iam-users.js";
import type { QueryParams } from "./query-params.js";

/**
 * IAM users and their long-term access keys (shared/contracts/wave2.md §3): CreateAccessKey,
 * ListAccessKeys, UpdateAccessKey, DeleteAccessKey in the query protocol, at most two keys per user
 * (inactive ones count), and the keys themselves accepted as request credentials while Active.
 */

/** IAM access-key actions the stand-in serves. */
export const IAM_ACCESS_KEY_ACTIONS = [
  "CreateAccessKey",
  "ListAccessKeys",
  "UpdateAccessKey",
  "DeleteAccessKey",
] as const;

/** "not adjustable"; inactive keys count (IAM quotas page, [Q] in wave2.md §3). */
const MAX_KEYS_PER_USER = 2;

const KEY_LIMITS = {
  /** existingUserNameType in the IAM model: 1–128 of `[\w+=,.@-]`. */
  userName: { min: 1, max: 128, pattern: /^[\w+=,.@-]*$/, patternText: "[\\w+=,.@-]+" },
  /** accessKeyIdType: 16–128 word characters. */
  accessKeyId: { min: 16, max: 128, pattern: /^\w*$/, patternText: "[\\w]+" },
} as const;

const SANDBOX_ACCOUNT = "123456789012";

/** Users from the sandbox's options; throws (at start-up) for a name IAM would refuse or a repeated one. */
export function createUsers(configs: readonly SandboxUserConfig[], createdAt: Date): IamUsers {
  const users: IamUsers = new Map();
  for (const config of configs) {
    if (!/^[\w+=,.@-]{1,64}$/.test(config.name) || users.has(config.name)) {
      throw new Error(`Sandbox user "${config.name}" must be a unique IAM user name ([\\w+=,.@-]{1,64})`);
    }
    const keys = config.accessKeys ?? [];
    if (keys.length > MAX_KEYS_PER_USER)
      throw new Error(`Sandbox user "${config.name}" has more than two keys`);
    const arn = `arn:aws:iam::${SANDBOX_ACCOUNT}:user/${config.name}`;
    users.set(config.name, {
      name: config.name,
      arn,
      account: SANDBOX_ACCOUNT,
      userId: deterministicId("AIDA", arn),
      // Keys given at start existed before the stand-in did: a day old, so accessKeyActivationSeconds
      // (IAM's delay before a new key works) never holds them back.
      accessKeys: keys.map((key) => ({
        ...key,
        status: key.status ?? "Active",
        createdAt: new Date(createdAt.getTime() - 86_400_000),
      })),
    });
  }
  return users;
}

/** The user and key that own `accessKeyId`, if any user's key has it. */
export function findAccessKey(users: IamUsers, accessKeyId: string) {
  for (const user of users.values()) {
    const key = user.accessKeys.find((candidate) => candidate.accessKeyId === accessKeyId);
    if (key) return { user, key };
  }
  return undefined;
}

/** A snapshot of a user's keys for tests: never the secret half. */
export const accessKeyRecords = (user: IamUser): SandboxAccessKeyRecord[] =>
  user.accessKeys.map(({ accessKeyId, status, createdAt }) => ({ accessKeyId, status, createdAt }));

/**
 * The user a call names. Without UserName IAM uses the signing user's; with temporary credentials
 * UserName is required (API_ListAccessKeys, API_UpdateAccessKey: "If a temporary access key is used,
 * then UserName is required"). The message is moto's and user reports' wording (Unconfirmed in docs).
 */
function namedUser(state: SandboxState, caller: Principal, params: QueryParams, problems: string[]): IamUser {
  const given = params.get("UserName");
  checkString(problems, "userName", given, KEY_LIMITS.userName);
  if (problems.length > 0) throw validationError(problems);
  let name = given;
  if (name === undefined) {
    if (caller.kind === "session") {
      throw new AwsQueryError(
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
      );
    }
    name = caller.arn.slice(caller.arn.lastIndexOf("/") + 1);
  }
  const user = state.users.get(name);
  if (user === undefined) {
    throw new AwsQueryError(404, "NoSuchEntity", `The user with name ${name} cannot be found.`);
  }
  return user;
}

function namedKey(user: IamUser, accessKeyId: string): AccessKey {
  const key = user.accessKeys.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (key === undefined) {
    throw new AwsQueryError(404, "NoSuchEntity", `The Access Key with id ${accessKeyId} cannot be found.`);
  }
  return key;
}

/** The AccessKeyId member, checked against the model (required). */
function accessKeyIdParam(params: QueryParams, problems: string[]): string {
  const value = params.get("AccessKeyId");
  checkString(problems, "accessKeyId", value, KEY_LIMITS.accessKeyId, true);
  return value ?? "";
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * A new key: real ids are AKIA + 16 base32 characters; these start AKID like SANDBOX_ACCESS_KEY, so
 * no secret scanner takes a test log for a leaked AWS key. The secret is 40 characters, as AWS's.
 */
function newAccessKey(now: Date): AccessKey {
  const id = Array.from(randomBytes(16), (byte) => ID_ALPHABET[byte % 32]).join("");
  return {
    accessKeyId: `AKID${id}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    status: "Active",
    createdAt: now,
  };
}

const keyMetadata = (user: IamUser, key: AccessKey) =>
  element("UserName", user.name) +
  element("AccessKeyId", key.accessKeyId) +
  element("Status", key.status) +
  element("CreateDate", isoSeconds(key.createdAt));

/** CreateAccessKey: a new Active key, its secret returned only here; a third key is LimitExceeded. */
export function createAccessKey(
  state: SandboxState,
  caller: Principal,
  params: QueryParams,
  now: Date,
): string {
  const user = namedUser(state, caller, params, []);
  if (user.accessKeys.length >= MAX_KEYS_PER_USER) {
    throw new AwsQueryError(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2");
  }
  const key = newAccessKey(now);
  user.accessKeys.push(key);
  return `<AccessKey>${keyMetadata(user, key)}${element("SecretAccessKey", key.secretAccessKey)}</AccessKey>`;
}

/** ListAccessKeys: a user holds at most two keys, so one page always holds them all. */
export function listAccessKeys(state: SandboxState, caller: Principal, params: QueryParams): string {
  const problems: string[] = [];
  // MaxItems 1–1000 (maxItemsType); one page holds every key anyway, so Marker is not needed.
  const maxItems = params.get("MaxItems");
  if (maxItems !== undefined) {
    const value = /^-?\d{1,10}$/.test(maxItems) ? Number(maxItems) : Number.NaN;
    if (Number.isNaN(value))
      problems.push(constraintProblem(maxItems, "maxItems", "Member must be an integer"));
    else if (value < 1) {
      problems.push(
        constraintProblem(maxItems, "maxItems", "Member must have value greater than or equal to 1"),
      );
    } else if (value > 1000) {
      problems.push(
        constraintProblem(maxItems, "maxItems", "Member must have value less than or equal to 1000"),
      );
    }
  }
  const user = namedUser(state, caller, params, problems);
  const members = user.accessKeys.map((key) => `<member>${keyMetadata(user, key)}</member>`).join("");
  return `<AccessKeyMetadata>${members}</AccessKeyMetadata>${element("IsTruncated", "false")}`;
}

/**
 * UpdateAccessKey: Active or Inactive. The model's enum also has Expired, which users cannot set; the
 * stand-in refuses it as InvalidInput (one of the action's modelled errors; the exact text is Unconfirmed).
 */
export function updateAccessKey(state: SandboxState, caller: Principal, params: QueryParams): undefined {
  const problems: string[] = [];
  const accessKeyId = accessKeyIdParam(params, problems);
  const status = params.get("Status");
  if (status === undefined) problems.push(constraintProblem(null, "status", "Member must not be null"));
  else if (!["Active", "Inactive", "Expired"].includes(status)) {
    problems.push(
      constraintProblem(status, "status", "Member must satisfy enum value set: [Active, Inactive, Expired]"),
    );
  }
  const user = namedUser(state, caller, params, problems);
  const key = namedKey(user, accessKeyId);
  if (status !== "Active" && status !== "Inactive") {
    throw new AwsQueryError(
      400,
      "InvalidInput",
      "An access key's status can only be set to Active or Inactive.",
    );
  }
  key.status = status;
  return undefined;
}

/** DeleteAccessKey: permanent; the key stops working at once. */
export function deleteAccessKey(state: SandboxState, caller: Principal, params: QueryParams): undefined {
  const problems: string[] = [];
  const accessKeyId = accessKeyIdParam(params, problems);
  const user = namedUser(state, caller, params, problems);
  namedKey(user, accessKeyId);
  user.accessKeys = user.accessKeys.filter((key) => key.accessKeyId !== accessKeyId);
  return undefined;
}

/** IAM's resource for a user action: the user's ARN (the user may not exist yet, as IAM shows it). */
export function userResource(state: SandboxState, account: string, params: QueryParams): string {
  const name = params.get("UserName") ?? "";
  return state.users.get(name)?.arn ?? `arn:aws:iam::${account}:user/${name}`;
}
