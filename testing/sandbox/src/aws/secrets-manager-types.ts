/** Public types of the Secrets Manager part of the AWS stand-in (see secrets-manager-endpoint.ts). */

/** A secret that exists from start (and again after `reset()`), owned by SANDBOX_USER_ARN's account. */
export type SandboxSecretConfig = {
  /** 1–512 characters of `[A-Za-z0-9/_+=.@-]`, as CreateSecret requires. */
  name: string;
  /** The value of its one version, labelled AWSCURRENT. */
  secretString: string;
  /** Default us-east-1. Secrets are regional: only clients signing for this region see it. */
  region?: string;
  description?: string;
};

/** One version of a secret, as the stand-in holds it. */
export type SandboxSecretVersionRecord = {
  versionId: string;
  /** Staging labels; empty for a deprecated version. */
  stages: string[];
  secretString: string;
  createdDate: Date;
};

/** A secret as the stand-in holds it: a snapshot for assertions, versions oldest first. */
export type SandboxSecretRecord = {
  arn: string;
  name: string;
  region: string;
  description?: string;
  versions: SandboxSecretVersionRecord[];
};
