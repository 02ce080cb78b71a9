import { z } from "zod";
import { sqlSettingsSchema, vaultSettingsSchema } from "./database-targets.js";
import { durationSchema } from "./duration.js";
import { principalSetSchema } from "./principal.js";
import { LEASEHOLD_SESSION_TAG_KEYS, STS, stsTagKeyProblem, stsTagValueProblem } from "./sts-limits.js";
import { boundedText } from "./text.js";

/** Kinds of things Leasehold can grant. Each kind has one CredentialProvider. */
export const targetKinds = ["aws-role", "vault", "sql"] as const;
export type TargetKind = (typeof targetKinds)[number];

/** What each backend itself accepts as a credential lifetime, in seconds. */
export const PROVIDER_DURATION_LIMITS: Record<TargetKind, { minSeconds: number; maxSeconds: number }> = {
  "aws-role": { minSeconds: STS.minDurationSeconds, maxSeconds: STS.maxDurationSeconds },
  // Database credentials: as short as an application likes (ten seconds is the floor, so a deadline is
  // never shorter than the time it takes to use it); past twelve hours they are renewed, not issued.
  vault: { minSeconds: 10, maxSeconds: 43_200 },
  sql: { minSeconds: 10, maxSeconds: 43_200 },
};

export const targetIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    "a target id is lower-case letters, digits and dashes, like prod-readonly",
  );

const ticketRuleSchema = z
  .object({
    required: z.boolean().default(false),
    /** A regular expression the whole ticket must match, such as `^[A-Z]+-[0-9]+$`. */
    pattern: z
      .string()
      .min(1)
      .max(200)
      .refine(
        (source) => {
          try {
            new RegExp(source, "u");
            return true;
          } catch {
            return false;
          }
        },
        { message: "pattern is not a valid regular expression" },
      )
      .optional(),
  })
  .strict();

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

const awsRoleSettingsSchema = z
  .object({
    roleArn: z
      .string()
      .min(20)
      .max(2048)
      .regex(ROLE_ARN, "roleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/ProdReadOnly"),
    /** An IAM policy that narrows the role further for sessions Leasehold issues. */
    sessionPolicy: sessionPolicySchema.optional(),
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

/**
 * A workload that may lease the target without approval: tokens from identity provider `provider`
 * whose `sub` is `subject` (or starts with it, when it ends in `*`) and whose string claims match.
 */
const leaseRuleSchema = z
  .object({
    provider: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "provider is an identity provider's name"),
    subject: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^*]+\*?$/, "subject is exact, or a prefix ending in a single *"),
    claims: z.record(z.string().min(1).max(100), z.string().max(255)).default({}),
    maxTtl: durationSchema,
  })
  .strict();

const targetBaseShape = {
  id: targetIdSchema,
  description: boundedText({ min: 0, max: 500, label: "description", multiline: true }).default(""),
  /** Who may ask for this target (people). Omitted: nobody; the target is for workload leases only. */
  requesters: principalSetSchema.default({ users: [], groups: [] }),
  /** Who may approve requests for it. The requester never counts, even when listed. */
  approvers: principalSetSchema.default({ users: [], groups: [] }),
  /** How many distinct approvers must approve. */
  requiredApprovals: z.int().min(1).max(10).default(1),
  /** Workloads that may lease this target without a human approval. */
  leases: z.array(leaseRuleSchema).max(100).default([]),
  maxDuration: durationSchema,
  /** Used when a request names no duration; defaults to the lesser of 1h and maxDuration. */
  defaultDuration: durationSchema.optional(),
  /** How long a request may wait for approval before it expires. */
  pendingTtl: durationSchema.default(86_400),
  ticket: ticketRuleSchema.default({ required: false }),
  /** Where requests for this target are posted for approval in Slack. */
  slack: z
    .object({
      approversChannel: z
        .string()
        .regex(
          /^[CG][A-Z0-9]{2,20}$/,
          "approversChannel is a Slack channel id like C0123ABCD (not its name)",
        ),
    })
    .strict()
    .optional(),
};

const kindShapes = [
  z.object({ ...targetBaseShape, kind: z.literal("aws-role"), aws: awsRoleSettingsSchema }).strict(),
  z.object({ ...targetBaseShape, kind: z.literal("vault"), vault: vaultSettingsSchema }).strict(),
  z.object({ ...targetBaseShape, kind: z.literal("sql"), sql: sqlSettingsSchema }).strict(),
] as const;

/** A target as written in leasehold.yaml. */
export const targetConfigSchema = z
  .discriminatedUnion("kind", [...kindShapes])
  .superRefine((target, ctx) => {
    const limits = PROVIDER_DURATION_LIMITS[target.kind];
    if (target.maxDuration < limits.minSeconds || target.maxDuration > limits.maxSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["maxDuration"],
        message: `${target.kind} credentials last ${limits.minSeconds}–${limits.maxSeconds} seconds; maxDuration is ${target.maxDuration}`,
      });
    }
    if (target.defaultDuration !== undefined) {
      if (target.defaultDuration > target.maxDuration || target.defaultDuration < limits.minSeconds) {
        ctx.addIssue({
          code: "custom",
          path: ["defaultDuration"],
          message: `defaultDuration must be between ${limits.minSeconds} seconds and maxDuration`,
        });
      }
    }
    const requestable = target.requesters.users.length > 0 || target.requesters.groups.length > 0;
    if (
      requestable &&
      target.approvers.groups.length === 0 &&
      target.approvers.users.length < target.requiredApprovals
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["approvers"],
        message: `requiredApprovals is ${target.requiredApprovals} but only ${target.approvers.users.length} approver(s) are named; add approvers or an approver group`,
      });
    }
    if (!requestable && target.leases.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["requesters"],
        message: "nobody can use this target: name requesters (people) or leases (workloads)",
      });
    }
    target.leases.forEach((rule, index) => {
      if (rule.maxTtl > target.maxDuration || rule.maxTtl < limits.minSeconds) {
        ctx.addIssue({
          code: "custom",
          path: ["leases", index, "maxTtl"],
          message: `maxTtl must be between ${limits.minSeconds} seconds and the target's maxDuration`,
        });
      }
    });
  })
  .transform((target) => {
    const common = {
      id: target.id,
      description: target.description,
      requesters: target.requesters,
      approvers: target.approvers,
      requiredApprovals: target.requiredApprovals,
      leases: target.leases.map((rule) => ({
        provider: rule.provider,
        subject: rule.subject,
        claims: rule.claims,
        maxTtlSeconds: rule.maxTtl,
      })),
      maxDurationSeconds: target.maxDuration,
      defaultDurationSeconds:
        target.defaultDuration ??
        Math.max(PROVIDER_DURATION_LIMITS[target.kind].minSeconds, Math.min(3600, target.maxDuration)),
      pendingTtlSeconds: target.pendingTtl,
      ticket: { required: target.ticket.required, pattern: target.ticket.pattern },
      slackChannel: target.slack?.approversChannel,
    };
    switch (target.kind) {
      case "aws-role":
        return { ...common, kind: target.kind, aws: target.aws };
      case "vault":
        return { ...common, kind: target.kind, vault: target.vault };
      case "sql":
        return { ...common, kind: target.kind, sql: target.sql };
    }
  });

/** A target as the rest of Leasehold sees it: durations in seconds, defaults filled in. */
export type Target = z.output<typeof targetConfigSchema>;
export type AwsRoleTarget = Extract<Target, { kind: "aws-role" }>;
export type VaultTarget = Extract<Target, { kind: "vault" }>;
export type SqlTarget = Extract<Target, { kind: "sql" }>;
export type LeaseRule = Target["leases"][number];
