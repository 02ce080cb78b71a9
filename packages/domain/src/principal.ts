import { z } from "zod";

/**
 * Someone authenticated: a person (from an OIDC ID token) or a workload (from a workload identity
 * token). Attributes come only from verified claims, never from a display name.
 */
export type Principal = {
  /** Stable identity used in policy and audit: a verified email for people, `<provider>:<sub>` for workloads. */
  readonly id: string;
  readonly kind: "human" | "workload";
  /** Name of the identity provider in leasehold.yaml that vouched for this principal. */
  readonly provider: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** A workload's verified string claims (repository, namespace, …), matched by lease rules. */
  readonly claims?: Readonly<Record<string, string>>;
};

/**
 * Emails are compared case-insensitively, so they are stored in lower case; workload ids
 * (`<provider>:<subject>`) keep their case because subjects are case-sensitive.
 */
export const normalizePrincipalId = (id: string): string => (id.includes(":") ? id : id.toLowerCase());

/** A principal id as policy and audit store it: an email or `<provider>:<subject>`. */
export const principalIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(254)
  .regex(/^[\p{L}\p{N}._%+@:/=-]+$/u, "a principal id is an email or <provider>:<subject>, without spaces")
  .transform(normalizePrincipalId);

export const groupNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .regex(/^[^\p{Cc}]+$/u, "a group name must not contain control characters");

/** A set of principals named in policy: by id, or by group membership. */
export const principalSetSchema = z
  .object({
    users: z.array(principalIdSchema).max(1000).default([]),
    groups: z.array(groupNameSchema).max(200).default([]),
  })
  .strict();
export type PrincipalSet = z.infer<typeof principalSetSchema>;

/** Whether the principal is named in the set directly or through one of its verified groups. */
export function isInSet(principal: Principal, set: PrincipalSet): boolean {
  if (set.users.includes(principal.id)) return true;
  return principal.groups.some((group) => set.groups.includes(group));
}
