/*
 * Caps: how much one principal, or one lease rule, may hold at once. They bound what a single stolen
 * or runaway identity can consume (pending requests flooding approvers, leases exhausting a backend's
 * budget). The broker counts under a lock in the transaction that would exceed them.
 */

/** Per-principal caps; leasehold.yaml's `limits` section. */
export type Caps = {
  /** Pending requests one principal may have at once, over all targets. */
  readonly pendingRequests: number;
  /** Grants from requests, issuing or active, one principal may hold before asking for another. */
  readonly activeGrants: number;
  /** Leases, issuing or active, one workload may hold at once, over all targets. */
  readonly activeLeases: number;
};

/**
 * Defaults: a person rarely needs more than a few grants or open requests at once, and ten of
 * each is far above normal use while keeping approvers' queues readable. A workload's service
 * account usually stands for many replicas, so leases get more room.
 */
export const DEFAULT_CAPS: Caps = { pendingRequests: 10, activeGrants: 10, activeLeases: 50 };

/** Default of a lease rule's `maxActive`: room for a large fleet, still far from any backend's own limits. */
export const DEFAULT_MAX_ACTIVE_PER_RULE = 100;

/** When a slot held until `freeAt` frees up, seen from `now`; unknown (null): a minute. */
export function secondsUntilFree(now: Date, freeAt: Date | null): number {
  if (!freeAt) return 60;
  return Math.max(1, Math.ceil((freeAt.getTime() - now.getTime()) / 1000));
}

/** Calls per principal per rate window (default a minute) on the API, by use case. */
export type Rates = {
  readonly requests: number;
  readonly leases: number;
  readonly revocations: number;
};

/**
 * Defaults per minute: a person files a request or two an hour; a workload fleet renews leases but
 * takes new ones rarely; revocation stays generous, since ending access must not be starved.
 */
export const DEFAULT_RATES: Rates = { requests: 10, leases: 60, revocations: 60 };
