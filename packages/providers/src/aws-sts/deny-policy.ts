import { sessionUserIdPattern } from "./session-identity.js";
import { GRANT_TAG_KEY } from "./sts-limits.js";

/**
 * Early revocation for STS sessions. AWS cannot end one session, but the role can refuse it: an
 * inline policy on the role denies everything to the sessions it names. One inline policy per grant
 * (not one shared list) means no read-modify-write, so concurrent revocations on the same role cannot
 * lose each other's statement. Each is deleted once the session has expired anyway, because a role's
 * inline policies share a 10,240-character budget (whitespace not counted).
 */

/** The inline policy that denies a grant's revoked sessions. */
export const revokePolicyName = (grantId: string): string => `leasehold-revoke-${grantId}`;
/** The inline policy that denies sessions from interrupted issue attempts. */
export const discardPolicyName = (grantId: string): string => `leasehold-discard-${grantId}`;

/** A policy denying every action to sessions whose `aws:userid` matches one of `userIdPatterns`. */
export function denySessionsPolicy(sid: string, userIdPatterns: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { StringLike: { "aws:userid": userIdPatterns } },
      },
    ],
  });
}

/**
 * The policy that revokes a grant early, two statements (IAM ORs statements, ANDs the keys inside one):
 *
 * 1. `aws:userid` like `*:lh-<grant>-a*`: every attempt's own session, whatever its tags.
 * 2. `aws:PrincipalTag/lh-grant` equal to the grant, if the session has that tag at all, and
 *    `aws:SourceIdentity` equal to the requester's: the grant's sessions and every session chained
 *    from them, which inherit the transitive `lh-grant` tag (it cannot be overridden along the chain)
 *    and the SourceIdentity (it cannot be changed). A session with the requester's SourceIdentity and
 *    no `lh-grant` tag at all — a chain from a session issued before Leasehold made its tags
 *    transitive, or a session made outside Leasehold in that person's name — is refused on this role
 *    too: an early revocation errs towards refusing. The requester's other grants carry another
 *    `lh-grant` value and keep working.
 *
 * No Sids: they cost budget and say nothing the policy's name does not. About 380 characters for a
 * short SourceIdentity (26 revocations fit in one role's budget; 50 fitted the `aws:userid`-only form).
 */
export function revokeGrantPolicy(grantId: string, sourceIdentity: string): string {
  const deny = (condition: Record<string, Record<string, string | string[]>>) => ({
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: condition,
  });
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      deny({ StringLike: { "aws:userid": [sessionUserIdPattern(grantId)] } }),
      deny({
        StringEqualsIfExists: { [`aws:PrincipalTag/${GRANT_TAG_KEY}`]: grantId },
        StringEquals: { "aws:SourceIdentity": sourceIdentity },
      }),
    ],
  });
}

/** The role name of a role ARN (the part after the last `/`). */
export function roleNameOf(roleArn: string): string {
  const name = roleArn.slice(roleArn.lastIndexOf("/") + 1);
  if (name === "") throw new Error(`${roleArn} has no role name`);
  return name;
}
