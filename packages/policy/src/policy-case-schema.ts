import { durationSchema, groupNameSchema, principalIdSchema } from "@leasehold/domain";
import { z } from "zod";
import { ACTIONS } from "./schema.js";

/*
 * The file `leasehold policy test` reads: cases of principal, action, target and context, each with the
 * expected decision. Bounded everywhere: a cases file comes from a pull request, not from a trusted hand.
 */

/** A policy id as `@id` or the translation writes it. */
const policyIdSchema = z
  .string()
  .trim()
  .regex(
    /^[\w./:-]{1,128}$/,
    "a policy id is letters, digits and ._/:- (at most 128), like target/prod/approvers",
  );

const text = (max: number) => z.string().trim().max(max);

/** Who asks. A workload's id is `<provider>:<subject>`; without `kind`, an id with a colon is a workload. */
export const casePrincipalSchema = z
  .object({
    id: principalIdSchema,
    kind: z.enum(["person", "workload"]).optional(),
    groups: z.array(groupNameSchema).max(200).default([]),
    /** The identity provider; default: the workload id's prefix, or `test` for a person. */
    provider: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "provider is an identity provider's name")
      .optional(),
    /** A workload's verified string claims (its Cedar tags). */
    claims: z
      .record(z.string().min(1).max(100), z.string().max(255))
      .refine((claims) => Object.keys(claims).length <= 50, "at most 50 claims")
      .default({}),
  })
  .strict();
export type CasePrincipal = z.output<typeof casePrincipalSchema>;

/** What a person asks for; every field defaults to the target's defaults and empty text. */
const requestOverrideSchema = z
  .object({
    /** Like 1h or a number of seconds; default: the target's default duration. */
    durationSeconds: durationSchema.optional(),
    ticket: text(200).optional(),
    reason: text(1000).optional(),
    scopes: z.array(text(200)).max(50).optional(),
  })
  .strict();

/**
 * Partial overrides of the action's context (schema.ts says which fields each action has). The time
 * is `now`; its weekday and hour follow from it.
 */
export const caseContextSchema = z
  .object({
    now: z.iso.datetime({ offset: true, error: "now is an ISO time like 2026-12-07T10:30:00Z" }).optional(),
    request: requestOverrideSchema.optional(),
    onCall: z.boolean().optional(),
    incidents: z.array(text(200)).max(100).optional(),
    preApproved: z.boolean().optional(),
    requester: principalIdSchema.optional(),
    approvals: z.array(principalIdSchema).max(20).optional(),
    escalationLevel: z.int().min(0).max(5).optional(),
    ttlSeconds: durationSchema.optional(),
    holder: z.boolean().optional(),
    extendBySeconds: durationSchema.optional(),
  })
  .strict();
export type CaseContext = z.output<typeof caseContextSchema>;

export const policyCaseSchema = z
  .object({
    name: text(200).min(1),
    principal: casePrincipalSchema,
    action: z.enum(ACTIONS),
    /** A target id; for ReadAudit `audit` (the default), for Rotate a rotation id. */
    target: text(63).min(1).optional(),
    /** Another name for `target`. */
    resource: text(63).min(1).optional(),
    context: caseContextSchema.default({}),
    expect: z.enum(["allow", "deny"]),
    /** The policies expected to decide (all of them, in any order). */
    policies: z.array(policyIdSchema).max(50).optional(),
  })
  .strict()
  .refine((c) => c.target === undefined || c.resource === undefined, "give target or resource, not both");
export type PolicyCase = z.output<typeof policyCaseSchema>;

const casesSchema = z.array(policyCaseSchema).min(1, "a cases file has at least one case").max(2000);

const casesFileObjectSchema = z.object({ now: caseContextSchema.shape.now, cases: casesSchema }).strict();
export type PolicyCasesFile = { readonly now: string | undefined; readonly cases: readonly PolicyCase[] };

/** Why a cases file (or one case) cannot be run: each problem names the case and field. */
export class PolicyCaseError extends Error {
  override readonly name = "PolicyCaseError";
  constructor(readonly problems: readonly string[]) {
    super(`the policy cases are not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const pathText = (path: readonly PropertyKey[]) =>
  path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : `${out}${out ? "." : ""}${String(key)}`),
    "",
  );

/** The value at an issue's path in the data (zod does not report the input itself). */
const valueAt = (data: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    data,
  );

/** A list of cases, or `{ now, cases }` where `now` is the time of every case that names none. */
export function parsePolicyCases(data: unknown): PolicyCasesFile {
  const result = Array.isArray(data)
    ? casesSchema.transform((cases) => ({ now: undefined, cases })).safeParse(data)
    : casesFileObjectSchema.safeParse(data);
  if (result.success) return { now: result.data.now, cases: result.data.cases };
  const prefix = Array.isArray(data) ? "cases" : "";
  throw new PolicyCaseError(
    result.error.issues.map((issue) => {
      const at = pathText([...(prefix ? [prefix] : []), ...issue.path]);
      return `${at || "(top level)"}: ${valueAt(data, issue.path) === undefined ? "this field is required" : issue.message}`;
    }),
  );
}
