/**
 * Deny policies on a target's role for sessions that must not work: those of interrupted issue
 * attempts (one small policy per grant, written before a retry and deleted when the grant is
 * released). Revocations share one policy per role instead: see role-denials.ts.
 */

/** The per-grant revocation policy of earlier versions, deleted wherever it is found. */
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
