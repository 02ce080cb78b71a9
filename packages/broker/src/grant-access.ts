import {
  type DomainError,
  ForbiddenError,
  type Grant,
  isLease,
  type LeaseRule,
  leaseRefusal,
  type Principal,
  samePrincipalId,
} from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { decideLease, mayReadAudit, mayRevokeOthers, refusal } from "./policy-checks.js";

export type GrantAccessDeps = Pick<BrokerDeps, "targets" | "policy" | "clock">;

/** How one use case treats callers other than the holder. */
export type GrantUse = {
  /**
   * What lets someone else do this to a grant: the Revoke policies (admins, by leasehold.yaml's
   * translation), the ReadAudit ones (seeing any grant), or nothing (extending, reading credentials:
   * the holder's alone, whatever a policy says).
   */
  readonly others: "Revoke" | "ReadAudit" | null;
  /** The refusal for anyone else. */
  readonly otherwise: () => DomainError;
};

/**
 * The one check before any use of a grant (grants.get, .list, .credentials, .extend, .revoke,
 * leases.renew): the holder may use it, but a lease (a grant without a request) only while the
 * policies, as configured now, still let the caller's current claims lease its target (invariant 12);
 * someone else only where `use.others` names an action the policies allow them; anyone else gets
 * `use.otherwise()`. Returns the lease rule for the holder of a lease, null otherwise.
 */
export function authorizeGrantUse(
  deps: GrantAccessDeps,
  principal: Principal,
  grant: Grant,
  use: GrantUse,
): LeaseRule | null {
  const target = deps.targets.get(grant.targetId);
  if (samePrincipalId(grant.principalId, principal.id)) {
    if (!isLease(grant)) return null;
    if (grant.principalId !== principal.id) {
      throw new ForbiddenError("only the workload that took a lease may use it");
    }
    if (!target) {
      throw new ForbiddenError(
        `lease ${grant.id} may not be used: target ${grant.targetId} is no longer configured`,
      );
    }
    const { decision, rule } = decideLease(deps, principal, target, target.defaultDurationSeconds);
    if (!rule) {
      throw refusal(`lease ${grant.id} may not be used: ${leaseRefusal(principal, target)}`, decision);
    }
    return rule;
  }
  if (use.others === "ReadAudit" && mayReadAudit(deps, principal)) return null;
  if (use.others === "Revoke" && mayRevokeOthers(deps, principal, target)) return null;
  throw use.otherwise();
}

/** Whether the check above lets `principal` see `grant` (for lists, which leave out what it refuses). */
export function maySeeGrant(deps: GrantAccessDeps, principal: Principal, grant: Grant): boolean {
  try {
    authorizeGrantUse(deps, principal, grant, {
      others: "ReadAudit",
      otherwise: () => new ForbiddenError("not yours"),
    });
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}
