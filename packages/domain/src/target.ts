import { z } from "zod";
import { durationSchema } from "./duration.js";
import { checkEscalation, escalationPolicyOf, escalationShape } from "./escalation.js";
import { DEFAULT_MAX_ACTIVE_PER_RULE } from "./limits.js";
import { onCallBindingSchema } from "./on-call-binding.js";
import { principalSetSchema } from "./principal.js";
import {
  MAX_SCOPES_PER_REQUEST,
  MAX_SCOPES_PER_TARGET,
  scopeBaseShape,
  scopeListProblems,
  scopeNameSchema,
  type TargetScope,
} from "./request-scope.js";
import { stepUpSchema } from "./step-up.js";
import { boundedText } from "./text.js";

/*
 * What every target has, whatever its kind: who may request and approve it, its durations, its lease
 * rules. The kinds themselves (an AWS role, a Vault path, a SQL role template), their settings blocks
 * and their duration limits belong to the providers (packages/providers); packages/config composes
 * them into leasehold.yaml's schema with `targetSchemaFor`. Nothing here knows a kind.
 */

/** What a backend itself accepts as a credential lifetime, in seconds. */
export type DurationLimits = { readonly minSeconds: number; readonly maxSeconds: number };

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
    /**
     * Leases issuing or active at once under this rule, counted over every workload whose provider and
     * subject the rule matches. Keeps one rule from exhausting its backend (IAM's policy budget, a
     * database's connection slots).
     */
    maxActive: z.int().min(1).max(10_000).default(DEFAULT_MAX_ACTIVE_PER_RULE),
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
  /**
   * How long an approval stays good for issuing: while a backend is unreachable or failing in a way
   * a retry can fix, the grant keeps waiting (and retrying) until this long after the approval.
   */
  issueWindow: durationSchema.default(3600),
  ticket: ticketRuleSchema.default({ required: false }),
  /** Attributes policies can read: `resource.environment`, and `resource.getTag("team")`. */
  environment: z
    .string()
    .max(63)
    .regex(/^[a-z0-9-]*$/, "environment is lower-case letters, digits and dashes, like prod")
    .default(""),
  tags: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "a tag key is lower-case letters, digits, _ and -"),
      z.string().max(256),
    )
    .refine((tags) => Object.keys(tags).length <= 50, "at most 50 tags")
    .default({}),
  /**
   * Approvals and break-glass activations count only from a fresh sign-in with the identity provider
   * (step-up.ts); a Slack click on such a target links to the console instead.
   */
  stepUp: stepUpSchema.optional(),
  /** Who may activate this target without approval, and for how long at most (break-glass). */
  breakGlass: z
    .object({
      allowed: principalSetSchema.default({ users: [], groups: [] }),
      /** Omitted: the lesser of 1h and the target's maxDuration. */
      maxDuration: durationSchema.optional(),
    })
    .strict()
    .default({ allowed: { users: [], groups: [] } }),
  /**
   * Requests approved by policy without a person: someone on call for the target's service now, or
   * assigned to an open incident naming it (the grant then ends when the incident resolves). At most
   * `maxPerDay` per person and target in any 24 hours; beyond that, people approve.
   */
  autoApprove: z
    .object({
      onCall: z.boolean().default(false),
      incidents: z.boolean().default(false),
      maxPerDay: z.int().min(1).max(100).default(3),
    })
    .strict()
    .default({ onCall: false, incidents: false, maxPerDay: 3 }),
  /** The on-call service behind the target, for on-call and incident facts (`onCall:` names the provider). */
  onCall: onCallBindingSchema.optional(),
  /** Where requests for this target are posted for approval in Slack. */
  slack: z
    .object({
      approversChannel: z
        .string()
        .regex(
          /^[CG][A-Z0-9]{2,20}$/,
          "must be a Slack channel id: C or G followed by 2–20 upper-case letters and digits, like C0123ABCD (not a #name)",
        ),
    })
    .strict()
    .optional(),
  /** Named narrowings a requester may pick (request-scope.ts); each kind adds its own block to a scope. */
  scopes: z
    .array(z.looseObject(scopeBaseShape))
    .max(MAX_SCOPES_PER_TARGET, `a target offers at most ${MAX_SCOPES_PER_TARGET} scopes`)
    .default([]),
  /** The scopes a request that names none gets. Empty: such a request gets the whole target. */
  defaultScopes: z.array(scopeNameSchema).max(MAX_SCOPES_PER_REQUEST).default([]),
  /** Who is asked next when a request waits too long (see escalation.ts). */
  ...escalationShape,
};

/** A target kind as a provider defines it: its name, its settings block in leasehold.yaml, its limits. */
export type TargetKindSpec<
  K extends string,
  Key extends string,
  Settings extends z.ZodType,
  Scope extends z.ZodType = z.ZodNever,
> = {
  readonly kind: K;
  /** The key of the settings block, like `aws` for `kind: aws-role`. */
  readonly settingsKey: Key;
  readonly settings: Settings;
  readonly durationLimits: DurationLimits;
  /** The kind's block in each of a target's `scopes` (under `settingsKey`). Absent: scopes carry none. */
  readonly scope?: Scope;
  /** The kind's rules over a target's settings and scopes together, as [path, message] problems. */
  readonly checkScopes?: (target: {
    readonly settings: z.output<Settings>;
    readonly scopes: readonly Record<string, unknown>[];
    readonly defaultScopes: readonly string[];
  }) => [(string | number)[], string][];
};

type TargetBaseInput = z.output<z.ZodObject<typeof targetBaseShape>>;

/** The kind-agnostic rules every target must meet, given its kind's duration limits. */
function checkTargetPolicy(
  target: TargetBaseInput,
  kind: string,
  limits: DurationLimits,
  ctx: z.RefinementCtx,
) {
  if (target.maxDuration < limits.minSeconds || target.maxDuration > limits.maxSeconds) {
    ctx.addIssue({
      code: "custom",
      path: ["maxDuration"],
      message: `${kind} credentials last ${limits.minSeconds}–${limits.maxSeconds} seconds; maxDuration is ${target.maxDuration}`,
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
  if ((target.autoApprove.onCall || target.autoApprove.incidents) && target.onCall === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["autoApprove"],
      message: "on-call and incident auto-approval need the target's onCall binding (provider and service)",
    });
  }
  const breakGlassMax = target.breakGlass.maxDuration;
  if (
    breakGlassMax !== undefined &&
    (breakGlassMax > target.maxDuration || breakGlassMax < limits.minSeconds)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["breakGlass", "maxDuration"],
      message: `breakGlass.maxDuration must be between ${limits.minSeconds} seconds and the target's maxDuration`,
    });
  }
  checkEscalation(target, ctx);
  target.leases.forEach((rule, index) => {
    if (rule.maxTtl > target.maxDuration || rule.maxTtl < limits.minSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["leases", index, "maxTtl"],
        message: `maxTtl must be between ${limits.minSeconds} seconds and the target's maxDuration`,
      });
    }
  });
}

/** The kind-agnostic part of a target, in seconds, defaults filled in. */
function targetPolicyOf(target: TargetBaseInput, limits: DurationLimits) {
  return {
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
      maxActive: rule.maxActive,
    })),
    maxDurationSeconds: target.maxDuration,
    defaultDurationSeconds:
      target.defaultDuration ?? Math.max(limits.minSeconds, Math.min(3600, target.maxDuration)),
    pendingTtlSeconds: target.pendingTtl,
    issueWindowSeconds: target.issueWindow,
    ticket: { required: target.ticket.required, pattern: target.ticket.pattern },
    environment: target.environment,
    tags: target.tags,
    breakGlass: {
      allowed: target.breakGlass.allowed,
      maxDurationSeconds:
        target.breakGlass.maxDuration ?? Math.max(limits.minSeconds, Math.min(3600, target.maxDuration)),
    },
    autoApprove: target.autoApprove,
    /** Undefined: approvals count from any authenticated approver. */
    stepUp: target.stepUp,
    onCall: target.onCall,
    slackChannel: target.slack?.approversChannel,
    scopes: target.scopes as readonly TargetScope[],
    defaultScopes: target.defaultScopes,
    ...escalationPolicyOf(target),
    /** The provider's limits for this kind, which no duration may leave (invariant 3). */
    durationLimits: limits,
  };
}

/**
 * A target as the rest of Leasehold sees it: durations in seconds, defaults filled in. `kind` names
 * the provider that serves it; the kind's settings block is typed by that provider.
 */
export type Target = ReturnType<typeof targetPolicyOf> & { readonly kind: string };
export type LeaseRule = Target["leases"][number];

/** A target of one kind: the common part and the kind's own settings under `settingsKey`. */
export type TargetOfKind<K extends string, Key extends string, Settings, ScopeSettings = never> = Omit<
  Target,
  "kind" | "scopes"
> & {
  readonly kind: K;
  readonly scopes: readonly (TargetScope & { readonly [P in Key]: ScopeSettings })[];
} & { readonly [P in Key]: Settings };

/**
 * The leasehold.yaml schema of one kind of target: the common fields, `kind`, and the kind's settings
 * block, checked against the common rules and the kind's duration limits.
 */
export function targetSchemaFor<
  const K extends string,
  const Key extends string,
  Settings extends z.ZodType,
  Scope extends z.ZodType = z.ZodNever,
>(spec: TargetKindSpec<K, Key, Settings, Scope>) {
  const settingsShape = { [spec.settingsKey]: spec.settings } as { [P in Key]: Settings };
  const scope = z
    .object({ ...scopeBaseShape, ...(spec.scope ? { [spec.settingsKey]: spec.scope } : {}) })
    .strict();
  const scopes = z
    .array(scope)
    .max(MAX_SCOPES_PER_TARGET, `a target offers at most ${MAX_SCOPES_PER_TARGET} scopes`)
    .default([]);
  return z
    .object({ ...targetBaseShape, kind: z.literal(spec.kind), ...settingsShape, scopes })
    .strict()
    .superRefine((target, ctx) => {
      checkTargetPolicy(target as TargetBaseInput, spec.kind, spec.durationLimits, ctx);
      const problems = [
        ...scopeListProblems(target as TargetBaseInput),
        ...(spec.checkScopes?.({
          settings: (target as Record<string, unknown>)[spec.settingsKey] as z.output<Settings>,
          scopes: (target as TargetBaseInput).scopes,
          defaultScopes: (target as TargetBaseInput).defaultScopes,
        }) ?? []),
      ];
      for (const [path, message] of problems) ctx.addIssue({ code: "custom", path, message });
    })
    .transform(
      (target) =>
        ({
          ...targetPolicyOf(target as TargetBaseInput, spec.durationLimits),
          kind: spec.kind,
          [spec.settingsKey]: (target as Record<string, unknown>)[spec.settingsKey],
        }) as TargetOfKind<K, Key, z.output<Settings>, z.output<Scope>>,
    );
}

/**
 * The narrowing a provider applies to the targets it is handed: a target of another kind reaching it
 * is a wiring mistake, not a user's, so it throws a plain error.
 */
export const targetNarrowing =
  <T extends Target>(kind: T["kind"], settingsKey: string, provider: string) =>
  (target: Target): T => {
    if (target.kind !== kind || !(settingsKey in target)) {
      throw new Error(`the ${provider} provider cannot serve ${target.kind} targets`);
    }
    return target as T;
  };
