import {
  DeleteRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandOutput,
} from "@aws-sdk/client-iam";
import type { BackendLeftover, DriftScanner } from "../drift.js";
import { toAwsError } from "./aws-errors.js";
import { asAwsRoleTarget } from "./aws-role-schemas.js";
import { discardPolicyName, revokePolicyName, roleNameOf } from "./deny-policy.js";

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
  const abortable = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});
  return {
    scope: (target) => `aws-role:${asAwsRoleTarget(target).aws.roleArn}`,

    async list({ target: anyTarget, signal }) {
      const roleArn = asAwsRoleTarget(anyTarget).aws.roleArn;
      const found: BackendLeftover[] = [];
      let marker: string | undefined;
      do {
        let page: ListRolePoliciesCommandOutput;
        try {
          page = await iam.send(
            new ListRolePoliciesCommand({
              RoleName: roleNameOf(roleArn),
              ...(marker !== undefined ? { Marker: marker } : {}),
            }),
            abortable(signal),
          );
        } catch (error) {
          throw toAwsError(error, `IAM ListRolePolicies on ${roleArn}`);
        }
        for (const name of page.PolicyNames ?? []) {
          const grantId = GRANT_POLICY.exec(name)?.[1];
          if (grantId !== undefined) {
            found.push({ kind: "iam-inline-policy", name, grant: { id: grantId }, handle: name });
          }
        }
        marker = page.IsTruncated === true ? page.Marker : undefined;
      } while (marker !== undefined);
      return found;
    },

    async remove({ target: anyTarget, leftover, signal }) {
      const roleArn = asAwsRoleTarget(anyTarget).aws.roleArn;
      if (!GRANT_POLICY.test(leftover.handle)) throw new Error(`${leftover.handle} is not a grant's policy`);
      try {
        await iam.send(
          new DeleteRolePolicyCommand({ RoleName: roleNameOf(roleArn), PolicyName: leftover.handle }),
          abortable(signal),
        );
      } catch (error) {
        const name = (error as Error).name;
        if (name === "NoSuchEntityException" || name === "NoSuchEntity") return;
        throw toAwsError(error, `IAM DeleteRolePolicy on ${roleArn}`);
      }
    },
  };
}
