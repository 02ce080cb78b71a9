import type { LeasedCredential, LeaseholdClient } from "./leasehold-client.js";

export type KeepLeaseOptions = {
  readonly targetId: string;
  readonly ttlSeconds: number;
  /** Renew this long before the deadline; default a third of the TTL. */
  readonly renewBeforeSeconds?: number;
  /** Called with the first credential and each replacement (a renewal keeps the same credential). */
  readonly onCredential: (leased: LeasedCredential) => void;
  /** Called when a renewal or replacement fails; the keeper tries again shortly. */
  readonly onError?: (error: unknown) => void;
};

export type LeaseKeeper = {
  /** The credential in use now. */
  current(): LeasedCredential;
  /** Stops renewing; with `revoke`, ends the lease at once (default true). */
  stop(options?: { revoke?: boolean }): Promise<void>;
};

/** Retry a failed renewal after this long (never after the deadline). */
const RETRY_MS = 5_000;

/**
 * Keeps a lease alive: renews it before its deadline and, when it can no longer be renewed (its rule's
 * lifetime is used up, or it was revoked), takes a new lease and hands the new credential over.
 */
export async function keepLeaseRenewed(
  client: LeaseholdClient,
  options: KeepLeaseOptions,
): Promise<LeaseKeeper> {
  let leased = await client.lease(options.targetId, options.ttlSeconds);
  options.onCredential(leased);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void refresh(), Math.max(0, ms));
    timer.unref?.();
  };
  const untilRenewal = () => {
    const deadline = leased.lease.expiresAt?.getTime() ?? Date.now();
    const before = (options.renewBeforeSeconds ?? options.ttlSeconds / 3) * 1000;
    return deadline - before - Date.now();
  };

  const refresh = async () => {
    try {
      const renewed = await client.renew(leased.lease.id, options.ttlSeconds);
      leased = { ...leased, lease: renewed };
    } catch (renewError) {
      options.onError?.(renewError);
      try {
        leased = await client.lease(options.targetId, options.ttlSeconds);
        options.onCredential(leased);
      } catch (leaseError) {
        options.onError?.(leaseError);
        schedule(RETRY_MS);
        return;
      }
    }
    schedule(untilRenewal());
  };

  schedule(untilRenewal());
  return {
    current: () => leased,
    async stop(stopOptions = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (stopOptions.revoke ?? true) await client.revoke(leased.lease.id);
    },
  };
}
