import type { Repositories } from "@leasehold/db";
import {
  type Caps,
  DEFAULT_CAPS,
  type LeaseRule,
  LimitExceededError,
  type Principal,
  ruleCoversPrincipalId,
  secondsUntilFree,
} from "@leasehold/domain";

/*
 * Caps are checked inside the transaction that inserts the row they count, after a lock on the
 * principal (and, for leases, on the target): two concurrent calls by one principal, or two leases
 * on one target, run one after the other, so the second counts the first's row and neither can
 * pass a cap the other filled. Locks are always taken principal first, then target.
 */

/** The caps in force: leasehold.yaml's `limits`, or the defaults. */
export const capsOrDefault = (caps: Caps | undefined): Caps => caps ?? DEFAULT_CAPS;

/** Before inserting a request: the requester's pending requests and held grants are under their caps. */
export async function checkRequestCaps(
  repos: Repositories,
  caps: Caps,
  principal: Principal,
  now: Date,
): Promise<void> {
  await repos.grants.lockScope(`principal:${principal.id}`);
  const pending = await repos.requests.countPending(principal.id, now);
  if (pending.count >= caps.pendingRequests) {
    throw new LimitExceededError(
      "limits.pendingRequests",
      `you have ${pending.count} pending requests, the most allowed at once; cancel one or wait for a decision`,
      secondsUntilFree(now, pending.nextFreeAt),
    );
  }
  const held = await repos.grants.countHeld(principal.id, "requested");
  if (held.count >= caps.activeGrants) {
    throw new LimitExceededError(
      "limits.activeGrants",
      `you hold ${held.count} grants, the most allowed at once; revoke one or wait for one to end`,
      secondsUntilFree(now, held.nextFreeAt),
    );
  }
}

/** Before inserting a lease: the workload's leases and the rule's leases are under their caps. */
export async function checkLeaseCaps(
  repos: Repositories,
  caps: Caps,
  principal: Principal,
  lease: { readonly targetId: string; readonly rule: LeaseRule },
  now: Date,
): Promise<void> {
  // Sent together and run in this order: each count starts (and takes its snapshot) once both locks
  // are held, so it sees the rows of whoever held them before.
  const [, , held, byPrincipal] = await Promise.all([
    repos.grants.lockScope(`principal:${principal.id}`),
    repos.grants.lockScope(`lease-target:${lease.targetId}`),
    repos.grants.countHeld(principal.id, "lease"),
    repos.grants.countLeasesByPrincipal(lease.targetId),
  ]);
  if (held.count >= caps.activeLeases) {
    throw new LimitExceededError(
      "limits.activeLeases",
      `${principal.id} holds ${held.count} leases, the most allowed at once; revoke one or wait for one to end`,
      secondsUntilFree(now, held.nextFreeAt),
    );
  }
  const underRule = byPrincipal.filter((p) => ruleCoversPrincipalId(lease.rule, p.principalId));
  const count = underRule.reduce((sum, p) => sum + p.count, 0);
  if (count >= lease.rule.maxActive) {
    const ends = underRule.flatMap((p) => (p.nextFreeAt ? [p.nextFreeAt.getTime()] : []));
    throw new LimitExceededError(
      `targets[${lease.targetId}].leases[${lease.rule.provider}:${lease.rule.subject}].maxActive`,
      `the lease rule ${lease.rule.provider}:${lease.rule.subject} of ${lease.targetId} has ${count} leases, the most allowed at once`,
      secondsUntilFree(now, ends.length > 0 ? new Date(Math.min(...ends)) : null),
    );
  }
}
