import {
  assertMayUseLease,
  type DomainError,
  ForbiddenError,
  type Grant,
  isLease,
  type LeaseRule,
  type Principal,
  samePrincipalId,
} from "@leasehold/domain";
import { isAdmin } from "./authorization.js";
import type { BrokerDeps } from "./broker-deps.js";

export type GrantAccessDeps = Pick<BrokerDeps, "targets" | "admins">;

/** How one use case treats callers other than the holder. */
export type GrantUse = {
  /** Whether an admin may do this to anyone's grant. */
  readonly admins: boolean;
  /** The refusal for anyone else. */
  readonly otherwise: () => DomainError;
};

/**
 * The one check before any use of a grant (grants.get, .list, .credentials, .extend, .revoke,
 * leases.renew): the holder may use it, but a lease (a grant without a request) only while a lease
 * rule of its target, as leasehold.yaml configures it now, still matches the caller's current claims
 * (invariant 12); an admin may where `use` says so; anyone else gets `use.otherwise()`. Returns the
 * lease rule for the holder of a lease, null otherwise.
 */
export function authorizeGrantUse(
  { targets, admins }: GrantAccessDeps,
  principal: Principal,
  grant: Grant,
  use: GrantUse,
): LeaseRule | null {
  if (samePrincipalId(grant.principalId, principal.id)) {
    return isLease(grant) ? assertMayUseLease(principal, grant, targets.get(grant.targetId)) : null;
  }
  if (use.admins && isAdmin(principal, admins)) return null;
  throw use.otherwise();
}

/** Whether the check above lets `principal` see `grant` (for lists, which leave out what it refuses). */
export function maySeeGrant(deps: GrantAccessDeps, principal: Principal, grant: Grant): boolean {
  try {
    authorizeGrantUse(deps, principal, grant, {
      admins: true,
      otherwise: () => new ForbiddenError("not yours"),
    });
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}
