import { z } from "zod";
import { LEASEHOLD_SESSION_TAG_KEYS, STS } from "./sts-limits.js";

/*
 * An `aws-role` target's scopes. Each scope is a session policy: an IAM policy document, or lists of
 * actions and resources Leasehold turns into one Allow statement. A request naming several scopes
 * gets one session policy holding all their statements (their union); AWS then intersects it with the
 * role's own policies, so a session can never do more than the role, and no more than its scopes.
 */

type Statement = Record<string, unknown>;

/** IAM action names: `service:Action`, with `*` and `?` wildcards, or `*` alone. */
const ACTION = /^(?:\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/;
const actionSchema = z.string().max(128).regex(ACTION, "an action is like s3:GetObject or s3:Get*");
const resourceSchema = z
  .string()
  .max(2048)
  .regex(/^(?:\*|arn:\S+)$/, 'a resource is an ARN or "*"');

const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Why a session policy statement is unusable, or undefined. Structural only; AWS checks the rest. */
function statementProblem(statement: unknown): string | undefined {
  if (typeof statement !== "object" || statement === null || Array.isArray(statement))
    return "each statement is an object";
  const entries = statement as Statement;
  const unknownKey = Object.keys(entries).find((key) => !STATEMENT_KEYS.has(key));
  if (unknownKey) return `a session policy statement may not have ${unknownKey}`;
  if (entries.Effect !== "Allow" && entries.Effect !== "Deny") return "Effect is Allow or Deny";
  const actions = entries.Action ?? entries.NotAction;
  if (actions === undefined || (entries.Action !== undefined && entries.NotAction !== undefined))
    return "a statement has Action or NotAction";
  if (!asList(actions).every((a) => typeof a === "string" && ACTION.test(a)))
    return "actions are like s3:GetObject or s3:Get*";
  const resources = entries.Resource ?? entries.NotResource;
  if (resources === undefined) return "a statement has Resource or NotResource";
  if (!asList(resources).every((r) => typeof r === "string" && resourceSchema.safeParse(r).success))
    return 'resources are ARNs or "*"';
  return undefined;
}

const policyDocumentSchema = z
  .union([z.string().max(10_000), z.record(z.string(), z.unknown())])
  .transform((policy, ctx) => {
    let document: unknown;
    try {
      document = typeof policy === "string" ? JSON.parse(policy) : policy;
    } catch {
      ctx.addIssue({ code: "custom", message: "policy is not valid JSON" });
      return z.NEVER;
    }
    const statements =
      typeof document === "object" && document !== null && "Statement" in document
        ? asList((document as { Statement: unknown }).Statement)
        : [];
    if (statements.length === 0) {
      ctx.addIssue({ code: "custom", message: "policy must be an IAM policy document with a Statement" });
      return z.NEVER;
    }
    for (const statement of statements) {
      const problem = statementProblem(statement);
      if (problem) {
        ctx.addIssue({ code: "custom", message: `policy: ${problem}` });
        return z.NEVER;
      }
    }
    // Sids are dropped: they mean nothing to AWS's evaluation, and two scopes' could collide.
    return statements.map((statement) => {
      const { Sid: _sid, ...rest } = statement as Statement;
      return rest;
    });
  });

/** The `aws:` block of one scope: `policy`, or `actions` (and `resources`, default every resource). */
export const awsScopeSettingsSchema = z
  .object({
    policy: policyDocumentSchema.optional(),
    actions: z.array(actionSchema).min(1).max(100).optional(),
    resources: z.array(resourceSchema).min(1).max(100).optional(),
  })
  .strict()
  .superRefine((scope, ctx) => {
    if ((scope.policy === undefined) === (scope.actions === undefined))
      ctx.addIssue({ code: "custom", message: "a scope has either policy or actions (with resources)" });
    if (scope.policy !== undefined && scope.resources !== undefined)
      ctx.addIssue({ code: "custom", path: ["resources"], message: "resources go with actions, not policy" });
  })
  .transform((scope) => ({
    statements: scope.policy ?? [
      { Effect: "Allow", Action: scope.actions ?? [], Resource: scope.resources ?? ["*"] } as Statement,
    ],
  }));
export type AwsScopeSettings = z.output<typeof awsScopeSettingsSchema>;

/** The session policy for these scopes' statements: what AssumeRole's `Policy` gets, minified. */
export function sessionPolicyFor(scopes: readonly { readonly aws: AwsScopeSettings }[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: scopes.flatMap((scope) => scope.aws.statements),
  });
}

/**
 * Whether `pattern` (an allowed action, with IAM wildcards) covers every action `action` can name
 * (itself possibly a wildcard). Case-insensitive, as IAM action names are. A `?` in the pattern stands
 * for one character that is not a wildcard; a `*` for any run, wildcards included.
 */
export function actionCovers(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  const memo = new Map<string, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === a.length;
    else if (p[i] === "*") result = match(i + 1, j) || (j < a.length && match(i, j + 1));
    else if (j === a.length) result = false;
    else if (p[i] === "?") result = a[j] !== "*" && match(i + 1, j + 1);
    else result = p[i] === a[j] && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** The actions of a scope's Allow statements that the target's allowed set does not cover. */
export function actionsOutside(settings: AwsScopeSettings, allowed: readonly string[]): string[] {
  const outside: string[] = [];
  for (const statement of settings.statements) {
    if (statement.Effect !== "Allow") continue; // a Deny only narrows
    if (statement.NotAction !== undefined) {
      outside.push("NotAction (an Allow with NotAction cannot be checked against allowedActions)");
      continue;
    }
    for (const action of asList(statement.Action) as string[]) {
      if (!allowed.some((pattern) => actionCovers(pattern, action))) outside.push(action);
    }
  }
  return outside;
}

/**
 * The most a session's tags can weigh: Leasehold's own at their longest (two ids, requester and
 * approvers at 256, a ticket at 128) and the target's own.
 */
function worstCaseTagBytes(targetTags: Readonly<Record<string, string>>): number {
  const longest = [36, 36, STS.tagValueMaxLength, STS.tagValueMaxLength, 128];
  let total = 0;
  LEASEHOLD_SESSION_TAG_KEYS.forEach((key, index) => {
    total += Buffer.byteLength(key) + (longest[index] ?? STS.tagValueMaxLength) + 2;
  });
  for (const [key, value] of Object.entries(targetTags))
    total += Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
  return total;
}

/**
 * Why STS would refuse this session policy with these tags, or undefined. The plain-text limit is
 * AWS's (2,048 characters). The packed limit is not published: this uses the only public description
 * (policies compress about twofold, tags do not; see testing/sandbox's packed-policy.ts) with the tags
 * at their worst case, so a policy that passes here also fits at issue. A PackedPolicyTooLarge at
 * issue all the same is a refusal the grant reports, not a retry.
 */
export function sessionPolicyProblem(
  policy: string,
  targetTags: Readonly<Record<string, string>>,
): string | undefined {
  if (policy.length > STS.maxSessionPolicyLength) {
    return `the session policy is ${policy.length} characters; STS allows ${STS.maxSessionPolicyLength}`;
  }
  const packed = Math.ceil(Buffer.byteLength(policy) / 2) + worstCaseTagBytes(targetTags);
  if (packed > STS.packedCapacityBytes) {
    return `the session policy and session tags would pack to about ${Math.ceil((100 * packed) / STS.packedCapacityBytes)}% of STS's limit`;
  }
  return undefined;
}
