import type { IAMClient } from "@aws-sdk/client-iam";
import type { Grant } from "@leasehold/domain";
import type { DenialOutcome } from "../denial-ledger.js";
import { revokePolicyName } from "./deny-policy.js";
import {
  DENIALS_POLICY_NAME,
  planRoleDenials,
  policySize,
  ROLE_INLINE_POLICY_BUDGET,
} from "./role-denials.js";
import { rolePolicies } from "./role-policies.js";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The one-policy-per-revocation form earlier versions wrote; `leasehold-denials` covers their grants. */
const PER_GRANT_REVOCATION = new RegExp(`^${revokePolicyName("")}${UUID}$`);

/**
 * Writes the role's `leasehold-denials` policy from `grants` (every grant on the role the database
 * holds), within the budget the role's other inline policies leave, then deletes per-grant
 * revocation policies of earlier versions, which it covers. Run under the ledger's lock.
 */
export async function writeRoleDenials(
  iam: IAMClient,
  input: { roleArn: string; grants: readonly Grant[]; now: Date; signal?: AbortSignal | undefined },
): Promise<DenialOutcome> {
  const policies = rolePolicies(iam, input.roleArn, input.signal);
  const names = await policies.names();
  let others = 0;
  // Earlier versions' per-grant policies: counted while they exist, deleted below.
  let superseded = 0;
  let previous: string | undefined;
  for (const name of names) {
    const document = await policies.get(name);
    if (name === DENIALS_POLICY_NAME) previous = document;
    else if (document !== undefined) others += policySize(document);
    if (document !== undefined && PER_GRANT_REVOCATION.test(name)) superseded += policySize(document);
  }
  const plan = planRoleDenials({
    roleArn: input.roleArn,
    grants: input.grants,
    budget: ROLE_INLINE_POLICY_BUDGET - others,
    now: input.now,
  });
  if (plan.document === null) {
    if (previous !== undefined) await policies.delete(DENIALS_POLICY_NAME);
  } else if (plan.document !== previous) {
    await policies.put(DENIALS_POLICY_NAME, plan.document);
  }
  for (const name of names.filter((n) => PER_GRANT_REVOCATION.test(n))) await policies.delete(name);
  return {
    scope: input.roleArn,
    cutoff: plan.cutoff && {
      ...plan.cutoff,
      continued: previous?.includes("aws:TokenIssueTime") ?? false,
    },
    ended: plan.ended,
    budget: {
      // What the role holds now: the per-grant policies are gone, the denials policy is written.
      used: others - superseded + (plan.document === null ? 0 : policySize(plan.document)),
      limit: ROLE_INLINE_POLICY_BUDGET,
    },
  };
}
