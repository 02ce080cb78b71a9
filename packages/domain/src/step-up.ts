import { z } from "zod";
import { durationSchema, formatDuration } from "./duration.js";

/**
 * Step-up: a target whose approvals (and break-glass activations) count only from someone who signed
 * in with the identity provider moments ago, not from a session or a Slack click hours old. The
 * identity provider vouches for the moment (OIDC `auth_time`) and, when asked, for how (`acr`).
 */
export const stepUpSchema = z
  .object({
    /** How recently the person must have authenticated with the identity provider; 1m to 1h. */
    maxAge: durationSchema
      .refine((s) => s >= 60 && s <= 3600, "stepUp.maxAge must be between 1m and 1h")
      .default(300),
    /** When set, the sign-in must also report this authentication context class (`acr`), such as MFA. */
    acr: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[\x21-\x7e]+$/, "acr is printable ASCII without spaces")
      .optional(),
  })
  .strict();
export type StepUp = z.output<typeof stepUpSchema>;

/** How a caller proved who they are on this call: what step-up and the audit trail look at. */
export type Authentication = {
  /** `console`: a browser session from an OIDC sign-in; `token`: a bearer token; `slack`: a Slack user. */
  readonly method: "console" | "token" | "slack";
  /** When the person last authenticated with the identity provider (OIDC `auth_time`), when known. */
  readonly authTime?: Date | undefined;
  /** The authentication context class the identity provider reported (OIDC `acr`), when any. */
  readonly acr?: string | undefined;
};

/**
 * Why `authentication` does not satisfy `stepUp` at `now`, or undefined when it does. Slack never
 * does: a click in Slack proves a Slack session, not a fresh sign-in with the identity provider.
 */
export function stepUpProblem(
  stepUp: StepUp,
  authentication: Authentication | undefined,
  now: Date,
): string | undefined {
  const fresh = `a sign-in with the identity provider within the last ${formatDuration(stepUp.maxAge)}`;
  if (!authentication || authentication.method === "slack") return `this target requires ${fresh}`;
  const { authTime } = authentication;
  if (authTime === undefined) return `this target requires ${fresh}; your sign-in does not say when it was`;
  if (now.getTime() - authTime.getTime() > stepUp.maxAge * 1000) {
    return `this target requires ${fresh}; sign in again`;
  }
  if (stepUp.acr !== undefined && authentication.acr !== stepUp.acr) {
    return `this target requires a sign-in of class ${stepUp.acr}`;
  }
  return undefined;
}

/** What an approval records about how its approver authenticated (the audit event's `authentication`). */
export function authenticationRecord(authentication: Authentication | undefined) {
  return {
    method: authentication?.method ?? "token",
    authTime: authentication?.authTime?.toISOString() ?? null,
    acr: authentication?.acr ?? null,
  };
}
