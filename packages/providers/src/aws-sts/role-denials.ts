import { type Grant, UpstreamError } from "@leasehold/domain";
import { sourceIdentityFor } from "./session-identity.js";
import { GRANT_TAG_KEY } from "./sts-limits.js";

/**
 * Early revocation of STS sessions on one role, as one inline policy (`leasehold-denials`) written
 * whole from the grants the database holds on the role. AWS cannot end a session, but the role can
 * refuse it; every inline policy of a role shares one budget of 10,240 characters (whitespace not
 * counted), which the policies Leasehold does not own also use.
 *
 * - **Listed**: one statement denies the revoked grants' sessions and every session chained from
 *   them: the transitive `lh-grant` tag is one of theirs (sessions without the tag at all included)
 *   and the SourceIdentity one of their holders'. A tagged session of a holder's other grant carries
 *   another `lh-grant` and keeps working. About 40 characters per revocation, plus each distinct
 *   holder's SourceIdentity once. Workload leases' revocations may fill the budget only up to
 *   `RESERVED_FOR_PEOPLE` before it, so a flood of them never crowds out a person's.
 * - **Cut-off**, when the list does not fit: deny every session issued before a moment `at`
 *   (`aws:TokenIssueTime`, as AWS's own "revoke active sessions" does) unless its `lh-grant` tag is
 *   one of the live grants', and list one by one only the revocations too recent for it. Revocations
 *   no longer cost room, only live grants do (about 40 characters each). Sessions on the role that
 *   Leasehold did not issue, if they are older than `at`, stop working too. Live grants that still do
 *   not fit (workload leases first, newest first) are reported, and the broker ends them.
 */

/** IAM's budget for all inline policies of one role, in characters without whitespace. */
export const ROLE_INLINE_POLICY_BUDGET = 10_240;
/** The one inline policy Leasehold writes its revocations into. */
export const DENIALS_POLICY_NAME = "leasehold-denials";
/** Characters of the budget workload leases' revocations may not take one by one. */
export const RESERVED_FOR_PEOPLE = 2_048;
/**
 * A cut-off covers a revocation only once its deny has been in place this long: long enough for IAM
 * to enforce it everywhere (so no session can be chained from a revoked one after the cut-off's
 * moment) and for clock skew between Leasehold and AWS.
 */
export const CUTOFF_SETTLE_SECONDS = 120;

/** A policy's size as IAM counts it. */
export const policySize = (document: string): number => document.replace(/\s/g, "").length;

export type DenialPlan = {
  /** The policy to hold, or null when nothing on the role needs denying (delete it). */
  readonly document: string | null;
  readonly cutoff: { readonly at: Date; readonly revocations: number; readonly kept: number } | null;
  /** Live grants the cut-off refuses: their sessions stop working. */
  readonly ended: readonly string[];
};

const isRevoked = (grant: Grant) =>
  grant.state === "revoking" || grant.state === "revoked" || grant.state === "revocation_failed";
const isWorkload = (grant: Grant) => grant.requestId === null;

type Condition = Record<string, Record<string, string | string[]>>;
const deny = (condition: Condition) => ({ Effect: "Deny", Action: "*", Resource: "*", Condition: condition });
const policyOf = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

/** Denies the grants' sessions and the sessions chained from them. */
function revokedStatement(grants: readonly Grant[]) {
  return deny({
    StringEqualsIfExists: { [`aws:PrincipalTag/${GRANT_TAG_KEY}`]: grants.map((g) => g.id) },
    StringEquals: { "aws:SourceIdentity": [...new Set(grants.map((g) => sourceIdentityFor(g.principalId)))] },
  });
}

/** Denies every session issued before `at` whose grant is not one of `kept`. */
function cutoffStatement(at: Date, kept: readonly Grant[]) {
  return deny({
    DateLessThan: { "aws:TokenIssueTime": at.toISOString().replace(/\.\d{3}Z$/, "Z") },
    ...(kept.length > 0
      ? { StringNotEquals: { [`aws:PrincipalTag/${GRANT_TAG_KEY}`]: kept.map((g) => g.id) } }
      : {}),
  });
}

/** The denials policy for a role's grants, within `budget` characters. */
export function planRoleDenials(input: {
  readonly roleArn: string;
  readonly grants: readonly Grant[];
  readonly budget: number;
  readonly now: Date;
}): DenialPlan {
  const { grants, budget } = input;
  const revoked = grants.filter(isRevoked);
  if (revoked.length === 0) return { document: null, cutoff: null, ended: [] };
  const listed = policyOf([revokedStatement(revoked)]);
  const workload = revoked.filter(isWorkload);
  const workloadSize = workload.length > 0 ? policySize(policyOf([revokedStatement(workload)])) : 0;
  if (policySize(listed) <= budget && workloadSize <= budget - RESERVED_FOR_PEOPLE) {
    return { document: listed, cutoff: null, ended: [] };
  }
  return planCutoff(input, revoked);
}

function planCutoff(
  input: {
    readonly roleArn: string;
    readonly grants: readonly Grant[];
    readonly budget: number;
    readonly now: Date;
  },
  revoked: readonly Grant[],
): DenialPlan {
  const at = new Date(Math.floor(input.now.getTime() / 1000 - CUTOFF_SETTLE_SECONDS) * 1000);
  const recent = revoked.filter((g) => g.state !== "revoked" || g.endedAt === null || g.endedAt >= at);
  // Kept first: grants still issuing (an attempt may be under way; never ended), then people's
  // grants, then workload leases, each oldest first. The tail is what gets dropped.
  const active = input.grants.filter((g) => g.state === "active");
  const issuing = input.grants.filter((g) => g.state === "issuing");
  const keep = [...issuing, ...active.filter((g) => !isWorkload(g)), ...active.filter(isWorkload)];
  const documentKeeping = (count: number) =>
    policyOf([
      cutoffStatement(at, keep.slice(0, count)),
      ...(recent.length > 0 ? [revokedStatement(recent)] : []),
    ]);
  if (policySize(documentKeeping(issuing.length)) > input.budget) {
    throw new UpstreamError(
      `the revocations on ${input.roleArn} from the last ${CUTOFF_SETTLE_SECONDS} s and its grants being issued do not fit its inline policy budget; retrying once they are older`,
      { retryable: true },
    );
  }
  // The largest number of grants kept that fits: the size grows with each one.
  let [fits, tooMany] = [issuing.length, keep.length + 1];
  while (tooMany - fits > 1) {
    const middle = Math.floor((fits + tooMany) / 2);
    if (policySize(documentKeeping(middle)) <= input.budget) fits = middle;
    else tooMany = middle;
  }
  return {
    document: documentKeeping(fits),
    cutoff: { at, revocations: revoked.length, kept: fits },
    ended: keep.slice(fits).map((g) => g.id),
  };
}
