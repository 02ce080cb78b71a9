import { createHash, randomBytes } from "node:crypto";
import { STS_LIMITS } from "./aws-limits.js";
import type { AwsCall, AwsFault, IssuedSession, SandboxRoleConfig } from "./aws-sandbox-types.js";
import type { IamUsers } from "./iam-users.js";
import type { S3Store } from "./s3-store.js";
import type { SecretsStore } from "./secrets-manager-store.js";

/** The long-term test key the stand-in accepts. Its id is deliberately not AKIA-shaped, so no scanner or person mistakes it for a real key. */
export const SANDBOX_ACCESS_KEY = {
  accessKeyId: "AKIDLEASEHOLDSANDBOX",
  secretAccessKey: "leasehold/sandbox/secret/not+a+real+aws+key",
} as const;

/** The IAM user SANDBOX_ACCESS_KEY belongs to (what GetCallerIdentity answers for it). */
export const SANDBOX_USER_ARN = "arn:aws:iam::123456789012:user/leasehold-sandbox";

/** The characters AWS uses in unique ids (base32: A–Z, 2–7). */
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const idChars = (source: Buffer, count: number): string =>
  Array.from(source.subarray(0, count), (byte) => ID_ALPHABET[byte % 32]).join("");

/** `<prefix>` + 17 characters derived from `seed`: the same ARN always gets the same id. */
export const deterministicId = (prefix: string, seed: string): string =>
  prefix + idChars(createHash("sha256").update(seed).digest(), 17);

export type Role = {
  arn: string;
  partition: string;
  account: string;
  name: string;
  path: string;
  roleId: string;
  maxSessionDurationSeconds: number;
  allowTagSession: boolean;
  allowSetSourceIdentity: boolean;
  externalId: string | undefined;
  createdAt: Date;
  inlinePolicies: Map<string, string>;
};

export type Session = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  role: Role;
  assumedRoleArn: string;
  assumedRoleId: string;
  sourceIdentity: string | undefined;
  /** Every session tag (inherited transitive ones included): what `aws:PrincipalTag/<key>` sees. */
  tags: Record<string, string>;
  /** What `aws:TokenIssueTime` sees: when AssumeRole issued the session. */
  issuedAt: Date;
  /** The session policy passed to AssumeRole, if any; its Deny statements apply too. */
  policy: string | undefined;
  /** Transitive tags the session passes on to roles it assumes (key → value). */
  transitiveTags: Record<string, string>;
};

/** Who signed a request: the long-term sandbox user or a session the stand-in issued. */
export type Principal =
  | { kind: "user"; accessKeyId: string; arn: string; account: string; userId: string }
  | { kind: "session"; accessKeyId: string; session: Session };

export const principalArn = (principal: Principal): string =>
  principal.kind === "user" ? principal.arn : principal.session.assumedRoleArn;

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/((?:[\x21-\x7E]+\/)?)([\w+=,.@-]{1,64})$/;

/** Builds a role from its configuration; throws (at start-up) for anything IAM would not allow. */
export function createRole(config: SandboxRoleConfig, createdAt: Date): Role {
  const match = ROLE_ARN.exec(config.arn);
  if (match === null) {
    throw new Error(
      `Sandbox role "${config.arn}" is not an IAM role ARN (arn:aws:iam::<12 digits>:role/Name)`,
    );
  }
  const [, partition = "aws", account = "", path = "", name = ""] = match;
  const maxSessionDurationSeconds = config.maxSessionDurationSeconds ?? STS_LIMITS.defaultDurationSeconds;
  if (
    !Number.isInteger(maxSessionDurationSeconds) ||
    maxSessionDurationSeconds < 3600 ||
    maxSessionDurationSeconds > STS_LIMITS.durationSeconds.max
  ) {
    throw new Error(
      `Sandbox role "${config.arn}": maxSessionDurationSeconds must be an integer in 3600–43200`,
    );
  }
  if (config.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(config.externalId)) {
    throw new Error(`Sandbox role "${config.arn}": externalId must be 2–1224 characters of [\\w+=,./@:-]`);
  }
  return {
    arn: config.arn,
    partition,
    account,
    name,
    path: `/${path}`,
    roleId: deterministicId("AROA", config.arn),
    maxSessionDurationSeconds,
    allowTagSession: config.allowTagSession ?? true,
    allowSetSourceIdentity: config.allowSetSourceIdentity ?? true,
    externalId: config.externalId,
    createdAt,
    inlinePolicies: new Map(),
  };
}

/** Fresh temporary credentials: an ASIA key id (20 characters), a 40-character secret, an opaque token. */
export function newSessionCredentials() {
  return {
    accessKeyId: `ASIA${idChars(randomBytes(16), 16)}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: randomBytes(192).toString("base64"),
  };
}

/** Everything the stand-in remembers between requests. */
export type SandboxState = {
  clock: () => Date;
  /** See AwsSandboxOptions.sessionAgeOnIssueSeconds. */
  sessionAgeOnIssueSeconds: number;
  roles: Map<string, Role>;
  rolesByName: Map<string, Role>;
  sessions: Map<string, Session>;
  issued: IssuedSession[];
  calls: AwsCall[];
  faults: AwsFault[];
  /** IAM users and their long-term access keys. */
  users: IamUsers;
  /** See AwsSandboxOptions.accessKeyActivationSeconds. */
  accessKeyActivationSeconds: number;
  /** Secrets Manager secrets. */
  secrets: SecretsStore;
  /** S3 buckets and their objects. */
  buckets: S3Store;
  /** Request and response bodies and the strings decoded from them, for allPayloadsText(). */
  payloads: string[];
};
