import { type DurationLimits, type TargetOfKind, targetNarrowing, targetSchemaFor } from "@leasehold/domain";
import { z } from "zod";
import {
  type AwsScopeSettings,
  actionsOutside,
  awsScopeSettingsSchema,
  sessionPolicyFor,
  sessionPolicyProblem,
} from "./aws-scope-policy.js";
import { LEASEHOLD_SESSION_TAG_KEYS, STS, stsTagKeyProblem, stsTagValueProblem } from "./sts-limits.js";

/** What STS itself accepts as a session's lifetime (the role's MaxSessionDuration may be lower). */
export const AWS_ROLE_DURATION_LIMITS: DurationLimits = {
  minSeconds: STS.minDurationSeconds,
  maxSeconds: STS.maxDurationSeconds,
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

const sessionPolicySchema = z
  .union([z.string().max(10_000), z.record(z.string(), z.unknown())])
  .transform((policy, ctx) => {
    let document: unknown;
    try {
      document = typeof policy === "string" ? JSON.parse(policy) : policy;
    } catch {
      ctx.addIssue({ code: "custom", message: "sessionPolicy is not valid JSON" });
      return z.NEVER;
    }
    if (typeof document !== "object" || document === null || !("Statement" in document)) {
      ctx.addIssue({
        code: "custom",
        message: "sessionPolicy must be an IAM policy document with a Statement",
      });
      return z.NEVER;
    }
    const packed = JSON.stringify(document);
    if (packed.length > STS.maxSessionPolicyLength) {
      ctx.addIssue({
        code: "custom",
        message: `sessionPolicy is ${packed.length} characters without whitespace; STS allows ${STS.maxSessionPolicyLength}`,
      });
      return z.NEVER;
    }
    return packed;
  });

/** The `aws:` block of an `aws-role` target in leasehold.yaml. */
export const awsRoleSettingsSchema = z
  .object({
    roleArn: z
      .string()
      .min(20)
      .max(2048)
      .regex(ROLE_ARN, "roleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/ProdReadOnly"),
    /** An IAM policy that narrows the role further for sessions Leasehold issues. */
    sessionPolicy: sessionPolicySchema.optional(),
    /**
     * The actions this target's scopes may allow (IAM wildcards allowed). Set: every scope's Allow
     * statements must stay inside it, checked when leasehold.yaml is loaded.
     */
    allowedActions: z
      .array(
        z
          .string()
          .max(128)
          .regex(/^(?:\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/),
      )
      .max(200)
      .optional(),
    /** Extra session tags set on every session for this target. */
    sessionTags: z.record(z.string(), z.string()).default({}),
    externalId: z
      .string()
      .regex(STS.externalId, "externalId must be 2–1224 characters of [\\w+=,./@:-]")
      .optional(),
  })
  .strict()
  .superRefine((aws, ctx) => {
    const seen = new Set<string>(LEASEHOLD_SESSION_TAG_KEYS);
    const keys = Object.keys(aws.sessionTags);
    if (keys.length + LEASEHOLD_SESSION_TAG_KEYS.length > STS.maxSessionTags) {
      ctx.addIssue({
        code: "custom",
        path: ["sessionTags"],
        message: `at most ${STS.maxSessionTags - LEASEHOLD_SESSION_TAG_KEYS.length} session tags (Leasehold sets ${LEASEHOLD_SESSION_TAG_KEYS.length} itself)`,
      });
    }
    for (const [key, value] of Object.entries(aws.sessionTags)) {
      const keyProblem = stsTagKeyProblem(key);
      if (keyProblem)
        ctx.addIssue({ code: "custom", path: ["sessionTags", key], message: `tag key ${keyProblem}` });
      const valueProblem = stsTagValueProblem(value);
      if (valueProblem)
        ctx.addIssue({ code: "custom", path: ["sessionTags", key], message: `tag value ${valueProblem}` });
      const folded = key.toLowerCase();
      if (seen.has(folded)) {
        ctx.addIssue({
          code: "custom",
          path: ["sessionTags", key],
          message: "tag key repeats another key or one Leasehold sets (keys are case-insensitive)",
        });
      }
      seen.add(folded);
    }
  });
export type AwsRoleSettings = z.output<typeof awsRoleSettingsSchema>;

/** A target's scopes against its settings: one way to narrow, actions inside the allowed set, each fits alone. */
function awsScopeProblems(target: {
  readonly settings: AwsRoleSettings;
  readonly scopes: readonly Record<string, unknown>[];
  readonly defaultScopes: readonly string[];
}): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  if (target.scopes.length > 0 && target.settings.sessionPolicy !== undefined) {
    problems.push([
      ["aws", "sessionPolicy"],
      "a target with scopes narrows sessions with them: AWS takes one session policy, so use defaultScopes instead of sessionPolicy",
    ]);
  }
  target.scopes.forEach((scope, index) => {
    // Required by the scope's schema; absent only when that already failed.
    const aws = scope.aws as AwsScopeSettings | undefined;
    if (aws === undefined) return;
    const allowed = target.settings.allowedActions;
    const outside = allowed === undefined ? [] : actionsOutside(aws, allowed);
    if (outside.length > 0)
      problems.push([
        ["scopes", index, "aws"],
        `allows what the target's allowedActions do not: ${outside.join(", ")}`,
      ]);
    const tooBig = sessionPolicyProblem(sessionPolicyFor([{ aws }]), target.settings.sessionTags);
    if (tooBig) problems.push([["scopes", index, "aws"], tooBig]);
  });
  // What a request naming no scope (and every workload lease) gets must fit together too.
  const defaults = target.scopes.filter((scope) => target.defaultScopes.includes(scope.name as string));
  if (defaults.length > 1) {
    const policy = sessionPolicyFor(defaults.map((scope) => ({ aws: scope.aws as AwsScopeSettings })));
    const tooBig = sessionPolicyProblem(policy, target.settings.sessionTags);
    if (tooBig) problems.push([["defaultScopes"], `the default scopes together: ${tooBig}`]);
  }
  return problems;
}

/** An `aws-role` target in leasehold.yaml: the common fields and the `aws:` block. */
export const awsRoleTargetSchema = targetSchemaFor({
  kind: "aws-role",
  settingsKey: "aws",
  settings: awsRoleSettingsSchema,
  durationLimits: AWS_ROLE_DURATION_LIMITS,
  scope: awsScopeSettingsSchema,
  checkScopes: awsScopeProblems,
});
export type AwsRoleTarget = TargetOfKind<"aws-role", "aws", AwsRoleSettings, AwsScopeSettings>;

/** The target as an `aws-role` one. */
export const asAwsRoleTarget = targetNarrowing<AwsRoleTarget>("aws-role", "aws", "STS");

const awsId = z.string().trim().min(1).max(256);

/** What a grant of an `aws-role` target keeps (not secret): enough to find its session in CloudTrail. */
export const awsRoleReferenceSchema = z.object({
  roleArn: z.string().regex(ROLE_ARN),
  sessionName: z.string().regex(STS.sessionName),
  sourceIdentity: z.string().regex(STS.sourceIdentity),
  accessKeyId: awsId,
  /** Empty when STS did not name the assumed role user. */
  assumedRoleId: z.string().max(256),
});
export type AwsRoleReference = z.output<typeof awsRoleReferenceSchema>;
