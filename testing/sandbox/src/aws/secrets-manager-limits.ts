/**
 * Limits of the real Secrets Manager API (2017-10-17): member lengths from its API model, quotas from
 * the user guide's "Secrets Manager quotas" page. The stand-in's own copy, like aws-limits.ts.
 */
export const SECRETS_MANAGER_LIMITS = {
  /** CreateSecret `Name`: 1–512 characters of ASCII letters, digits and `/_+=.@-`. */
  name: { min: 1, max: 512, pattern: /^[A-Za-z0-9/_+=.@-]*$/ },
  /** `SecretId` (a name, or a full or partial ARN). */
  secretId: { min: 1, max: 2048 },
  description: { min: 0, max: 2048 },
  /** `ClientRequestToken`, which becomes the VersionId; also every VersionId parameter. */
  versionId: { min: 32, max: 64 },
  /** `SecretString`: 1 character to 65,536 bytes ("Length of a secret: 65,536 bytes"). */
  secretString: { min: 1, maxBytes: 65_536 },
  /** One staging label. */
  versionStage: { min: 1, max: 256 },
  /** `VersionStages` of one PutSecretValue call. */
  versionStagesPerCall: { min: 1, max: 20 },
  /** Quota: staging labels attached across all versions of one secret. */
  maxLabelsPerSecret: 20,
  /**
   * Quota: "~100" versions. Secrets Manager removes unlabeled versions when there are more than 100,
   * but not those created less than 24 hours ago; past that the quota is reached.
   */
  maxVersionsPerSecret: 100,
  deprecatedVersionMinAgeSeconds: 24 * 60 * 60,
  /** ListSecretVersionIds `MaxResults`. */
  maxResults: { min: 1, max: 100 },
} as const;

/** The labels Secrets Manager itself moves. */
export const AWSCURRENT = "AWSCURRENT";
export const AWSPREVIOUS = "AWSPREVIOUS";
