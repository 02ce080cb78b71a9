import { z } from "zod";
import type { Authentication } from "./step-up.js";

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
  /** How this call was authenticated (for step-up and the audit trail); absent: a bearer token. */
  readonly authentication?: Authentication;
};

// The safe set for an email that names a person: ASCII letters, digits and ._%+=/'- before the @;
// letters, digits, dots and dashes after it (an internationalised domain in its xn-- form). ASCII only,
// because JavaScript has no full Unicode case folding (toLowerCase maps the Kelvin sign U+212A to `k`),
// and letters from other scripts can look exactly like someone else's address.
const SAFE_EMAIL = /^[A-Za-z0-9._%+=/'-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,187}[A-Za-z0-9])?$/;
const WORKLOAD_ID = /^[\p{L}\p{N}._%+@:/=-]+$/u;

export type EmailPrincipalId =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly problem: string };

/**
 * The one way an email becomes a principal id, for tokens, Slack's confirmed emails and leasehold.yaml
 * alike. Refused, never mapped: an email that Unicode NFKC normalisation would change (a compatibility
 * look-alike such as the Kelvin sign or a fullwidth letter), or with characters outside the safe set.
 * Otherwise it is case-folded (lower case, which for ASCII is exactly Unicode case folding).
 */
export function emailPrincipalId(email: string): EmailPrincipalId {
  if (email.normalize("NFKC") !== email) {
    return {
      ok: false,
      problem: "changes under Unicode NFKC normalisation (it contains a look-alike character)",
    };
  }
  if (!SAFE_EMAIL.test(email)) {
    return {
      ok: false,
      problem:
        "is not an email of ASCII letters, digits and ._%+=/'- (write an internationalised domain in its xn-- form)",
    };
  }
  return { ok: true, id: email.toLowerCase() };
}

/** The canonical form of a principal id, or undefined when it names no one. */
const canonicalPrincipalId = (id: string): string | undefined => {
  if (id.includes(":")) {
    // A workload, `<provider>:<subject>`: subjects are case-sensitive, so the id is kept exactly.
    return WORKLOAD_ID.test(id) && id.normalize("NFKC") === id ? id : undefined;
  }
  const email = emailPrincipalId(id);
  return email.ok ? email.id : undefined;
};

/**
 * The one comparison of principal ids (approver and requester lists, admins, reviewers, the Slack
 * mapping): equal when both name the same person or workload after canonicalisation. An id without a
 * canonical form (a look-alike email, which no entry point lets in) is compared exactly, so it never
 * matches the identity it imitates, and excluding a requester from their own review still holds.
 */
export function samePrincipalId(a: string, b: string): boolean {
  return (canonicalPrincipalId(a) ?? a) === (canonicalPrincipalId(b) ?? b);
}

/** A principal id as policy and audit store it: an email (case-folded) or `<provider>:<subject>`. */
export const principalIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(254)
  .transform((id, ctx): string => {
    const canonical = canonicalPrincipalId(id);
    if (canonical !== undefined) return canonical;
    const email = id.includes(":") ? undefined : emailPrincipalId(id);
    ctx.addIssue({
      code: "custom",
      message:
        email && !email.ok
          ? `"${id}" ${email.problem}`
          : "a workload id is <provider>:<subject>, without spaces or look-alike characters",
    });
    return z.NEVER;
  });

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
  if (set.users.some((user) => samePrincipalId(user, principal.id))) return true;
  return principal.groups.some((group) => set.groups.includes(group));
}
