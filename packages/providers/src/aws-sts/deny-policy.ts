/**
 * Early revocation for STS sessions. AWS cannot end one session, but the role can refuse it: an
 * inline policy on the role denies everything to sessions whose `aws:userid` matches. One inline
 * policy per grant (not one shared list) means no read-modify-write, so concurrent revocations on
 * the same role cannot lose each other's statement. Each is deleted once the session has expired
 * anyway, because a role's inline policies share a 10,240-character budget.
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

/** The role name of a role ARN (the part after the last `/`). */
export function roleNameOf(roleArn: string): string {
  const name = roleArn.slice(roleArn.lastIndexOf("/") + 1);
  if (name === "") throw new Error(`${roleArn} has no role name`);
  return name;
}
