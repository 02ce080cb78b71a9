/** Public types of the AWS stand-in (see aws-sandbox.ts). */
import type { SandboxSecretConfig, SandboxSecretRecord } from "./secrets-manager-types.js";

/** A role the stand-in knows. Anything else is refused as AccessDenied, like a role you may not assume. */
export type SandboxRoleConfig = {
  /** `arn:aws:iam::<account>:role/<optional/path/>Name`. Role names must be unique within a sandbox. */
  arn: string;
  /** The role's MaxSessionDuration, 3600–43200 s; default 3600. */
  maxSessionDurationSeconds?: number;
  /** Whether the trust policy allows `sts:TagSession`; default true. */
  allowTagSession?: boolean;
  /** Whether the trust policy allows `sts:SetSourceIdentity`; default true. */
  allowSetSourceIdentity?: boolean;
  /** When set, AssumeRole must pass exactly this ExternalId (the trust policy's `sts:ExternalId` condition). */
  externalId?: string;
};

/** An IAM user the stand-in knows, with the long-term access keys it has from start (at most two). */
export type SandboxUserConfig = {
  /** The user's name, `[\w+=,.@-]{1,64}`, unique; its ARN is `arn:aws:iam::123456789012:user/<name>`. */
  name: string;
  accessKeys?: readonly { accessKeyId: string; secretAccessKey: string; status?: "Active" | "Inactive" }[];
};

/** One of an IAM user's access keys as the stand-in holds it (never the secret half). */
export type SandboxAccessKeyRecord = { accessKeyId: string; status: "Active" | "Inactive"; createdAt: Date };

/** Object Lock retention modes. */
export type SandboxS3LockMode = "COMPLIANCE" | "GOVERNANCE";

/**
 * Test device: an S3 bucket that exists from start (and again, empty, after `reset()`), standing in
 * for CreateBucket with `x-amz-bucket-object-lock-enabled: true` plus PutObjectLockConfiguration.
 */
export type SandboxBucketConfig = {
  /** A valid S3 bucket name (3–63 of a–z, 0–9, `.`, `-`). */
  name: string;
  /** The bucket's region; requests signed for another are refused as S3 does. Default us-east-1. */
  region?: string;
  /** Object Lock enabled (which makes the bucket versioned), with an optional default retention. */
  objectLock?: { defaultRetention?: { mode: SandboxS3LockMode; days: number } };
};

/** A snapshot of one stored S3 object version (or delete marker), newest last in `s3Versions`. */
export type SandboxS3ObjectVersion = {
  key: string;
  /** "null" in a bucket without Object Lock (unversioned). */
  versionId: string;
  deleteMarker: boolean;
  /** The body as UTF-8 text. */
  body: string;
  contentType: string;
  lastModified: Date;
  lockMode?: SandboxS3LockMode;
  retainUntil?: Date;
};

export type AwsSandboxOptions = {
  roles: readonly SandboxRoleConfig[];
  /** S3 buckets that exist from start (S3 on the same server; see README.md). */
  buckets?: readonly SandboxBucketConfig[];
  /** IAM users that exist from start (and again, with their configured keys, after `reset()`). */
  users?: readonly SandboxUserConfig[];
  /**
   * IAM is eventually consistent: a new access key is refused (403 InvalidClientTokenId) for this
   * many seconds after CreateAccessKey, as real keys are for several seconds (wave2.md §3). Default 0.
   */
  accessKeyActivationSeconds?: number;
  /** Secrets Manager secrets that exist from start (and again after `reset()`). */
  secrets?: readonly SandboxSecretConfig[];
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The server's clock: request signing times, session issue and expiry. Default: the wall clock. */
  clock?: () => Date;
  /**
   * Test device, not AWS behaviour: sessions are issued already this many seconds old, so their
   * Expiration is `now + DurationSeconds − age`. Lets an end-to-end test watch a 900-second session
   * (STS's minimum) expire without waiting 15 minutes. Default 0.
   */
  sessionAgeOnIssueSeconds?: number;
  /**
   * Test device: awaited after an AssumeRole succeeded and before its response is sent, so a test can
   * act (for example, kill the caller) at the moment the session exists but the caller has not heard.
   */
  beforeAssumeRoleResponse?: (session: IssuedSession) => void | Promise<void>;
};

/** One successful AssumeRole, as the stand-in saw it. Never holds the secret key or session token. */
export type IssuedSession = {
  roleArn: string;
  roleSessionName: string;
  sourceIdentity?: string;
  durationSeconds: number;
  /** Session tags, including transitive tags inherited from a calling session. */
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  policy?: string;
  policyArns: string[];
  externalId?: string;
  accessKeyId: string;
  /** `<roleId>:<roleSessionName>`, which IAM conditions see as `aws:userid`. */
  assumedRoleId: string;
  /** `arn:aws:sts::<account>:assumed-role/<RoleName>/<roleSessionName>`. */
  assumedRoleArn: string;
  /** What policies see as `aws:TokenIssueTime`. */
  issuedAt: Date;
  expiration: Date;
  /** Access key id of the credentials that signed the AssumeRole call (an ASIA… one when chaining). */
  callerAccessKeyId: string;
};

/** The query-protocol services. */
export type AwsServiceName = "sts" | "iam";

/** Every service the stand-in answers: the query-protocol ones and Secrets Manager (JSON 1.1). */
export type AwsSandboxService = AwsServiceName | "secretsmanager" | "s3";

/** Every request the stand-in answered. `service` is "unknown" when the signature did not say. */
export type AwsCall = {
  service: AwsSandboxService | "unknown";
  /** The query Action, the Secrets Manager operation (from X-Amz-Target), or the S3 operation. */
  action: string;
  status: number;
  errorCode?: string;
  accessKeyId?: string;
  /** Secrets Manager and S3 calls: the region the request was signed for. */
  region?: string;
};

/**
 * The next `times` calls of `action` (on `service`, or any) fail with `status` and `code`, in the
 * service's own error format (XML for STS/IAM, JSON for Secrets Manager).
 */
export type AwsFault = {
  service?: AwsSandboxService;
  action: string;
  status: number;
  code: string;
  times: number;
  message?: string;
};

export type AwsSandbox = {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint` or AWS_ENDPOINT_URL_STS / _IAM. */
  url: string;
  port: number;
  /** Successful AssumeRole calls, oldest first (a live, read-only view). */
  readonly issued: readonly IssuedSession[];
  /** Every answered request, oldest first (a live, read-only view). */
  readonly calls: readonly AwsCall[];
  /** The role's current inline policies, name → document as stored. Throws for an unknown role. */
  rolePolicies(roleName: string): Record<string, string>;
  /**
   * A snapshot of the Secrets Manager secret `name` (in `region`, needed only when several regions or
   * accounts have a secret of that name). Throws when there is none.
   */
  secret(name: string, region?: string): SandboxSecretRecord;
  /**
   * Every request body and response body seen, plus every decoded string in them (JSON values, form
   * values, XML text), one string: a secret shows up verbatim whichever encoding it travelled in.
   */
  allPayloadsText(): string;
  /** A snapshot of an IAM user's access keys, oldest first. Throws for an unknown user. */
  accessKeys(userName: string): SandboxAccessKeyRecord[];
  /** Every version of an S3 object, oldest first (delete markers included); [] when there is none. */
  s3Versions(bucket: string, key: string): SandboxS3ObjectVersion[];
  injectFault(fault: AwsFault): void;
  /** Forgets calls, issued records and payloads (issued credentials keep working). */
  clearRecords(): void;
  /**
   * Back to the state just after start: no records, faults, sessions or inline policies, only the
   * configured secrets, exactly as they were, and the configured buckets, empty.
   */
  reset(): void;
  /**
   * Test device: AWS unreachable. Stops listening and drops every open connection, so callers get
   * connection refused; state is kept. `comeBack` listens on the same port again.
   */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
};
