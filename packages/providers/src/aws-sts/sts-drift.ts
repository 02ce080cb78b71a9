import type { IAMClient } from "@aws-sdk/client-iam";
import type { BackendLeftover, DriftScanner } from "../drift.js";
import { asAwsRoleTarget } from "./aws-role-schemas.js";
import { discardPolicyName, revokePolicyName } from "./deny-policy.js";
import { rolePolicies } from "./role-policies.js";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The per-grant deny policies (see deny-policy.ts); the grant id is their tail. */
const GRANT_POLICY = new RegExp(`^(?:${revokePolicyName("")}|${discardPolicyName("")})(${UUID})$`);

/**
 * The STS provider's drift scan: the per-grant `leasehold-revoke-<grant>` and
 * `leasehold-discard-<grant>` inline policies on the target's role (IAM ListRolePolicies, every
 * page). Other policies, Leasehold-named or not, are never listed, so never removed: their names do
 * not say which grant needs them.
 */
export function createStsDrift(iam: IAMClient): DriftScanner {
  return {
    scope: (target) => `aws-role:${asAwsRoleTarget(target).aws.roleArn}`,

    async list({ target, signal }) {
      const names = await rolePolicies(iam, asAwsRoleTarget(target).aws.roleArn, signal).names();
      const found: BackendLeftover[] = [];
      for (const name of names) {
        const grantId = GRANT_POLICY.exec(name)?.[1];
        if (grantId !== undefined) {
          found.push({ kind: "iam-inline-policy", name, grant: { id: grantId }, handle: name });
        }
      }
      return found;
    },

    async remove({ target, leftover, signal }) {
      if (!GRANT_POLICY.test(leftover.handle)) throw new Error(`${leftover.handle} is not a grant's policy`);
      await rolePolicies(iam, asAwsRoleTarget(target).aws.roleArn, signal).delete(leftover.handle);
    },
  };
}
