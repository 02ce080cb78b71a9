/**
 * AWS STS AssumeRole limits (see shared/contracts/README.md). The target schema checks them at the edge so that
 * a request STS would refuse is refused before anything is recorded. The STS stand-in in
 * testing/sandbox keeps its own copy on purpose: a mistake here must not be mirrored there.
 */
export const STS = {
  minDurationSeconds: 900,
  maxDurationSeconds: 43_200,
  /** RoleSessionName: 2–64 characters of [\w+=,.@-]. */
  sessionName: /^[\w+=,.@-]{2,64}$/,
  /** SourceIdentity: 2–64 characters of [\w+=,.@-], not starting with `aws:`. */
  sourceIdentity: /^[\w+=,.@-]{2,64}$/,
  maxSessionTags: 50,
  tagKeyMaxLength: 128,
  tagValueMaxLength: 256,
  /** Characters allowed in tag keys and values. */
  tagCharacters: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
  maxSessionPolicyLength: 2048,
  /** What the packed session policy and tags may take, in the model aws-scope-policy.ts explains. */
  packedCapacityBytes: 2048,
  /** ExternalId: 2–1224 characters of [\w+=,./@:-]. */
  externalId: /^[\w+=,./@:-]{2,1224}$/,
} as const;

/** Why STS would refuse this session tag key, or undefined if it is acceptable. */
export function stsTagKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > STS.tagKeyMaxLength)
    return `must be 1–${STS.tagKeyMaxLength} characters`;
  if (!STS.tagCharacters.test(key)) return "may contain only letters, digits, spaces and _.:/=+-@";
  if (key.toLowerCase().startsWith("aws:")) return 'must not start with "aws:"';
  return undefined;
}

/** Why STS would refuse this session tag value, or undefined if it is acceptable. */
export function stsTagValueProblem(value: string): string | undefined {
  if (value.length > STS.tagValueMaxLength) return `must be at most ${STS.tagValueMaxLength} characters`;
  if (!STS.tagCharacters.test(value)) return "may contain only letters, digits, spaces and _.:/=+-@";
  return undefined;
}

/**
 * Session tag keys Leasehold sets on every STS session it issues, so that CloudTrail ties each API
 * call to its request and approvals. Targets may add their own tags but not reuse these (compared
 * case-insensitively, as STS does).
 */
export const LEASEHOLD_SESSION_TAG_KEYS = [
  "lh-request",
  "lh-grant",
  "lh-requester",
  "lh-approvers",
  "lh-ticket",
] as const;

/** The session tag naming the grant; transitive, so revocation can find sessions chained from it. */
export const GRANT_TAG_KEY = LEASEHOLD_SESSION_TAG_KEYS[1];
