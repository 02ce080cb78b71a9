import {
  type Grant,
  grantTransition,
  noMetrics,
  SYSTEM_ACTOR,
  type Target,
  UpstreamError,
} from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { commitAudited } from "./audited-change.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { forEachConcurrently } from "./concurrently.js";
import { isRetryable } from "./failures.js";
import { recordRevocationDebt } from "./revocation-debt.js";
import { targetOfGrant } from "./target-of-grant.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "providers" | "clock" | "log" | "metrics">;

export type ExpiryOptions = {
  /** Provider calls at expiry (a Vault lease revocation, a SQL role drop) made at once per batch. */
  readonly providerCallsAtOnce?: number;
};

/**
 * Most grants expired in one transaction. The audit chain's head stays locked until it commits, so
 * this bounds how long every other audited write waits behind a batch (tens of milliseconds).
 */
export const MAX_EXPIRY_BATCH = 200;

/**
 * Batches expired at once. More than one, so that a provider call that hangs (a Vault that does not
 * answer until the job's signal aborts it) holds up only its own batch; few, so that under load the
 * callers still gather into large batches.
 */
export const EXPIRY_BATCHES_IN_FLIGHT = 4;

type Outcome = "expired" | "skipped";
type Waiting = {
  readonly grantId: string;
  readonly attempt: Attempt;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
};

/**
 * The same grant asked for twice in one batch (its job and the sweep at once) is expired once and
 * both callers get its outcome; the attempt is the last if either caller's is.
 */
function oneEntryPerGrant(callers: readonly Waiting[]): Waiting[] {
  const byGrant = new Map<string, Waiting[]>();
  for (const caller of callers) byGrant.set(caller.grantId, [...(byGrant.get(caller.grantId) ?? []), caller]);
  return [...byGrant.values()].map((same) => {
    const [first] = same as [Waiting, ...Waiting[]];
    if (same.length === 1) return first;
    return {
      grantId: first.grantId,
      attempt: { ...first.attempt, isLast: same.some((w) => w.attempt.isLast) },
      resolve: (outcome) => {
        for (const w of same) w.resolve(outcome);
      },
      reject: (error) => {
        for (const w of same) w.reject(error);
      },
    };
  });
}

/**
 * Ends grants at their deadline: the provider confirms the credential is dead (STS sessions end by
 * themselves), then the grant is expired and its stored credential wiped. Callers ask for one grant
 * at a time (`expire`); the calls made at the same moment (the expiry jobs that came due together,
 * a sweep's page) are gathered into one batch, so a minute in which thousands of grants come due
 * costs a few hundred transactions, not one per grant (each takes the audit chain's head lock).
 * Each caller still gets its own outcome, and a failure is its grant's alone.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose functions share the batch queue it closes over; each function is short.
export function createExpiryService(deps: Deps, options: ExpiryOptions = {}) {
  const { store, targets, providers, clock, log } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const providerCallsAtOnce = options.providerCallsAtOnce ?? 8;
  const waiting: Waiting[] = [];
  let inFlight = 0;
  let startScheduled = false;

  type Due = {
    entry: Waiting;
    grant: Grant & { expiresAt: Date };
    target: Target;
    provider: CredentialProvider;
  };

  /** One read, the provider calls outside any transaction, then the commits, then the debts. */
  async function expireBatch(callers: readonly Waiting[]): Promise<void> {
    const batch = oneEntryPerGrant(callers);
    const grants = await store.read((repos) => repos.grants.findByIds(batch.map((w) => w.grantId)));
    const found = new Map(grants.map((grant) => [grant.id, grant]));
    const checkedAt = clock();
    const { from } = grantTransition("deadline-reached");
    const due: Due[] = [];
    const failed: { entry: Waiting; grant: Grant; error: unknown }[] = [];
    for (const entry of batch) {
      const grant = found.get(entry.grantId);
      const expiresAt = grant?.expiresAt;
      if (!grant || !from.includes(grant.state) || !expiresAt) {
        entry.resolve("skipped");
      } else if (expiresAt > checkedAt) {
        const error = new UpstreamError(`grant ${grant.id} is not due until ${expiresAt.toISOString()}`, {
          retryable: true,
        });
        entry.reject(error);
      } else {
        try {
          const target = targetOfGrant(targets, grant);
          due.push({ entry, grant: { ...grant, expiresAt }, target, provider: providers.get(target.kind) });
        } catch (error) {
          failed.push({ entry, grant, error });
        }
      }
    }

    const confirmed: Due[] = [];
    await forEachConcurrently(due, providerCallsAtOnce, async (item) => {
      try {
        const calledAt = clock().getTime();
        await item.provider.expire({
          grant: item.grant,
          target: item.target,
          signal: item.entry.attempt.signal,
        });
        metrics.revokeCompleted(item.target.kind, (clock().getTime() - calledAt) / 1000);
        confirmed.push(item);
      } catch (error) {
        failed.push({ entry: item.entry, grant: item.grant, error });
      }
    });
    // Deadline order, so a batch's audit events read in the order the grants came due.
    confirmed.sort((a, b) => a.grant.expiresAt.getTime() - b.grant.expiresAt.getTime());
    try {
      await commitExpiries(confirmed);
    } catch (error) {
      failed.push(...confirmed.map((item) => ({ entry: item.entry, grant: item.grant, error })));
    }

    // A failure becomes revocation debt when no retry will follow (or none can help), as for revoke.
    for (const { entry, grant, error } of failed) {
      let outcome: unknown = error;
      if (!isRetryable(error) || entry.attempt.isLast) {
        try {
          await recordRevocationDebt(deps, grant, error, "expire");
        } catch (debtError) {
          outcome = debtError;
        }
      }
      entry.reject(outcome);
    }
  }

  /** One transaction: moves the chunk's grants and writes one audit event each (invariant 7). */
  async function commitExpiries(chunk: readonly Due[]): Promise<void> {
    const now = clock();
    const { from, to } = grantTransition("deadline-reached");
    const expired = await commitAudited(store, now, async (repos, record) => {
      const moved = await repos.grants.transitionMany(
        chunk.map((item) => item.grant.id),
        from,
        to,
        now,
        { endedAt: now, credential: null, lastError: null },
        // A grant extended since it was read stays.
        { dueBy: now },
      );
      const movedById = new Map(moved.map((grant) => [grant.id, grant]));
      const ended = chunk.filter((item) => movedById.has(item.grant.id));
      for (const item of ended) {
        record({
          actor: SYSTEM_ACTOR.worker,
          action: "grant.expired",
          subjectType: "grant",
          subjectId: item.grant.id,
          data: { deadline: item.grant.expiresAt.toISOString() },
        });
      }
      const releasedNow = ended.filter((item) => {
        const grant = movedById.get(item.grant.id);
        return grant !== undefined && !item.provider.needsRelease(grant);
      });
      await repos.grants.markReleasedMany(
        releasedNow.map((item) => item.grant.id),
        now,
      );
      return movedById;
    });
    for (const { entry, grant } of chunk) {
      const ended = expired.has(grant.id);
      entry.resolve(ended ? "expired" : "skipped");
      if (ended) {
        const lateMs = now.getTime() - grant.expiresAt.getTime();
        metrics.expiryLateness(lateMs / 1000);
        log.info({ grantId: grant.id, lateMs }, "grant expired");
      }
    }
  }

  /**
   * Starts batches with what is waiting while batches are free; a finished batch starts the next.
   * Each takes at most one transaction's worth (MAX_EXPIRY_BATCH), so a sweep's page of a thousand
   * spreads over the free batches, whose reads and commits overlap, rather than being committed one
   * chunk after another.
   */
  const startBatches = () => {
    while (waiting.length > 0 && inFlight < EXPIRY_BATCHES_IN_FLIGHT) {
      const batch = waiting.splice(0, MAX_EXPIRY_BATCH);
      inFlight += 1;
      void expireBatch(batch)
        .catch((error: unknown) => {
          for (const entry of batch) entry.reject(error);
        })
        .finally(() => {
          inFlight -= 1;
          startBatches();
        });
    }
  };

  return {
    /**
     * Expires one grant at its deadline: "skipped" when it is not (or no longer) in a state that can
     * expire; rejects when it is not due yet or the provider call failed (then, on the last attempt,
     * the grant has become revocation debt).
     */
    expire: (grantId: string, attempt: Attempt): Promise<Outcome> =>
      new Promise((resolve, reject) => {
        waiting.push({ grantId, attempt, resolve, reject });
        // On the next turn of the event loop, so calls made together share one batch.
        if (!startScheduled) {
          startScheduled = true;
          setImmediate(() => {
            startScheduled = false;
            startBatches();
          });
        }
      }),
  };
}

export type ExpiryService = ReturnType<typeof createExpiryService>;
