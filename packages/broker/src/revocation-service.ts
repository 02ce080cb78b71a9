import {
  ConflictError,
  ForbiddenError,
  type Grant,
  NotFoundError,
  nextGrantState,
  type Principal,
  type RevokeGrantInput,
  SYSTEM_ACTOR,
  type Target,
  UpstreamError,
} from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { isAdmin } from "./authorization.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { forEachConcurrently } from "./concurrently.js";
import { describeFailure, isRetryable } from "./failures.js";
import { transitionGrant } from "./grant-transition.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "providers" | "queues" | "clock" | "admins" | "log">;

/** One grant to expire, with how its job is running. */
export type ExpiryItem = { readonly grantId: string; readonly attempt: Attempt };

/** What became of one grant of an `expireMany` call. */
export type ExpiryResult =
  | { readonly grantId: string; readonly outcome: "expired" | "skipped" }
  | { readonly grantId: string; readonly error: unknown };

/**
 * Most grants expired in one transaction. The audit chain's head stays locked until it commits, so
 * this bounds how long every other audited write waits behind a batch (tens of milliseconds).
 */
export const MAX_EXPIRY_BATCH = 200;

/** Provider calls at expiry (a Vault lease revocation, a SQL role drop) made at once by default. */
const PROVIDER_CALLS_AT_ONCE = 8;

/**
 * How grants end: at their deadline (expire), early (revoke), and the clean-up after the deadline
 * (release). Every path calls the provider first and commits after (invariant 8); when the provider
 * keeps failing, the grant becomes revocation debt: a state, an audit event and an error log line
 * (invariant 5), and the sweep keeps retrying it.
 */
export function createGrantEndService({ store, targets, providers, queues, clock, admins, log }: Deps) {
  const targetOf = (grant: Grant) => {
    const target = targets.get(grant.targetId);
    if (!target) {
      throw new UpstreamError(`target ${grant.targetId} of grant ${grant.id} is no longer configured`, {
        retryable: false,
      });
    }
    return target;
  };

  /**
   * Records that ending the grant keeps failing: the credential may still work at the provider, but
   * Leasehold hands it out no more (its stored copy is wiped, as the schema requires off `active`).
   */
  const recordDebt = async (grant: Grant, error: unknown, during: "revoke" | "expire") => {
    const now = clock();
    const reason = describeFailure(error);
    await store.transaction((repos) =>
      transitionGrant(repos, grant.id, {
        from: during === "revoke" ? ["revoking", "revocation_failed"] : ["active", "revocation_failed"],
        to: "revocation_failed",
        at: now,
        changes: { lastError: reason, credential: null },
        actor: SYSTEM_ACTOR.worker,
        action: "grant.revocation_failed",
        data: { during, error: reason },
      }),
    );
    log.error({ grantId: grant.id, during, error: reason }, "REVOCATION DEBT: the credential may still work");
  };

  /**
   * `expire` for many grants at once (the expiry jobs that came due together, or a sweep's page):
   * one read, the provider calls outside any transaction, then per MAX_EXPIRY_BATCH grants one
   * transaction that moves them and writes one audit event each (invariant 7). Each grant gets its own
   * outcome, in the order given: a grant not yet due, or whose provider call failed, fails alone.
   */
  async function expireMany(
    items: readonly ExpiryItem[],
    options: { concurrency?: number } = {},
  ): Promise<ExpiryResult[]> {
    const byId = new Map(items.map((item) => [item.grantId, item]));
    const outcomes = new Map<string, ExpiryResult>();
    const grants = await store.read((repos) => repos.grants.findByIds([...byId.keys()]));
    const found = new Map(grants.map((grant) => [grant.id, grant]));
    const checkedAt = clock();
    type Due = {
      grant: Grant & { expiresAt: Date };
      attempt: Attempt;
      target: Target;
      provider: CredentialProvider;
    };
    const due: Due[] = [];
    const failed: { grant: Grant; attempt: Attempt; error: unknown }[] = [];
    for (const [grantId, { attempt }] of byId) {
      const grant = found.get(grantId);
      const expiresAt = grant?.expiresAt;
      if (!grant || (grant.state !== "active" && grant.state !== "revocation_failed") || !expiresAt) {
        outcomes.set(grantId, { grantId, outcome: "skipped" });
      } else if (expiresAt > checkedAt) {
        const error = new UpstreamError(`grant ${grantId} is not due until ${expiresAt.toISOString()}`, {
          retryable: true,
        });
        outcomes.set(grantId, { grantId, error });
      } else {
        try {
          const target = targetOf(grant);
          due.push({ grant: { ...grant, expiresAt }, attempt, target, provider: providers.get(target.kind) });
        } catch (error) {
          failed.push({ grant, attempt, error });
        }
      }
    }

    const confirmed: Due[] = [];
    await forEachConcurrently(due, options.concurrency ?? PROVIDER_CALLS_AT_ONCE, async (entry) => {
      try {
        await entry.provider.expire({
          grant: entry.grant,
          target: entry.target,
          signal: entry.attempt.signal,
        });
        confirmed.push(entry);
      } catch (error) {
        failed.push({ grant: entry.grant, attempt: entry.attempt, error });
      }
    });
    // Deadline order, so a batch's audit events read in the order the grants came due.
    confirmed.sort((a, b) => a.grant.expiresAt.getTime() - b.grant.expiresAt.getTime());

    for (let i = 0; i < confirmed.length; i += MAX_EXPIRY_BATCH) {
      const batch = confirmed.slice(i, i + MAX_EXPIRY_BATCH);
      const now = clock();
      try {
        const expired = await store.transaction(async (repos) => {
          const moved = await repos.grants.transitionMany(
            batch.map((entry) => entry.grant.id),
            ["active", "revocation_failed"],
            "expired",
            now,
            { endedAt: now, credential: null, lastError: null },
            { dueBy: now },
          );
          const movedById = new Map(moved.map((grant) => [grant.id, grant]));
          const ended = batch.filter((entry) => movedById.has(entry.grant.id));
          await repos.audit.appendMany(
            ended.map((entry) => ({
              actor: SYSTEM_ACTOR.worker,
              action: "grant.expired" as const,
              subjectType: "grant" as const,
              subjectId: entry.grant.id,
              data: { deadline: entry.grant.expiresAt.toISOString() },
            })),
            now,
          );
          const releasedNow = ended.filter((entry) => {
            const grant = movedById.get(entry.grant.id);
            return grant !== undefined && !entry.provider.needsRelease(grant);
          });
          await repos.grants.markReleasedMany(
            releasedNow.map((entry) => entry.grant.id),
            now,
          );
          return movedById;
        });
        for (const { grant } of batch) {
          const ended = expired.has(grant.id);
          outcomes.set(grant.id, { grantId: grant.id, outcome: ended ? "expired" : "skipped" });
          if (ended) {
            log.info(
              { grantId: grant.id, lateMs: now.getTime() - grant.expiresAt.getTime() },
              "grant expired",
            );
          }
        }
      } catch (error) {
        failed.push(...batch.map((entry) => ({ grant: entry.grant, attempt: entry.attempt, error })));
      }
    }

    // A failure becomes revocation debt when no retry will follow (or none can help), as for revoke.
    for (const { grant, attempt, error } of failed) {
      let outcome: unknown = error;
      if (!isRetryable(error) || attempt.isLast) {
        try {
          await recordDebt(grant, error, "expire");
        } catch (debtError) {
          outcome = debtError;
        }
      }
      outcomes.set(grant.id, { grantId: grant.id, error: outcome });
    }
    return items.map(
      (item) => outcomes.get(item.grantId) ?? { grantId: item.grantId, error: new Error("no outcome") },
    );
  }

  return {
    /** The requester or an admin ends an active grant now. The provider call happens in the worker. */
    async requestRevoke(principal: Principal, input: RevokeGrantInput): Promise<Grant> {
      const now = clock();
      const grant = await store.transaction(async (repos) => {
        const current = await repos.grants.lockById(input.grantId);
        if (!current) throw new NotFoundError("there is no such grant");
        if (current.principalId !== principal.id && !isAdmin(principal, admins)) {
          throw new ForbiddenError("only the grant's holder or an admin may revoke it");
        }
        if (current.state === "issuing") {
          throw new ConflictError("this grant is still being issued; revoke it once it is active");
        }
        nextGrantState(current.state, "revoke-requested");
        // The credential is wiped now: nobody can fetch it again while the provider revokes it.
        const updated = await transitionGrant(repos, current.id, {
          from: ["active"],
          to: "revoking",
          at: now,
          changes: { credential: null },
          actor: principal.id,
          action: "grant.revoke_requested",
          data: { reason: input.reason ?? null },
        });
        if (!updated) throw new ConflictError(`this grant is already ${current.state}`);
        return updated;
      });
      await queues.revoke(grant.id).catch((error: unknown) => {
        log.warn(
          { grantId: grant.id, err: String(error) },
          "could not enqueue revocation; the sweep will retry",
        );
      });
      log.info({ grantId: grant.id, by: principal.id }, "revocation requested");
      return grant;
    },

    /** The worker's revoke job: the provider makes the credential unusable, then the grant is revoked. */
    async revoke(grantId: string, attempt: Attempt): Promise<"revoked" | "skipped"> {
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant || (grant.state !== "revoking" && grant.state !== "revocation_failed")) return "skipped";
      try {
        const target = targetOf(grant);
        await providers.get(target.kind).revoke({ grant, target, signal: attempt.signal });
        const now = clock();
        await store.transaction((repos) =>
          transitionGrant(repos, grant.id, {
            from: ["revoking", "revocation_failed"],
            to: "revoked",
            at: now,
            changes: { endedAt: now, credential: null, lastError: null },
            actor: SYSTEM_ACTOR.worker,
            action: "grant.revoked",
          }),
        );
        log.info({ grantId }, "grant revoked");
        return "revoked";
      } catch (error) {
        if (!isRetryable(error) || attempt.isLast) await recordDebt(grant, error, "revoke");
        throw error;
      }
    },

    /**
     * The worker's expiry job at the deadline: the provider confirms the credential is dead (STS
     * sessions end by themselves), then the grant is expired and its stored credential wiped.
     */
    async expire(grantId: string, attempt: Attempt): Promise<"expired" | "skipped"> {
      const [result] = await expireMany([{ grantId, attempt }]);
      if (!result) throw new Error(`no expiry outcome for grant ${grantId}`);
      if ("error" in result) throw result.error;
      return result.outcome;
    },

    expireMany,
    /** After the deadline: removes what revocation left at the provider (run by the sweep). */
    async release(grant: Grant, signal?: AbortSignal): Promise<void> {
      const target = targetOf(grant);
      const provider = providers.get(target.kind);
      const needed = provider.needsRelease(grant);
      if (needed) await provider.release({ grant, target, signal });
      const now = clock();
      await store.transaction(async (repos) => {
        await repos.grants.markReleased(grant.id, now);
        if (!needed) return;
        await repos.audit.append(
          {
            actor: SYSTEM_ACTOR.sweep,
            action: "grant.released",
            subjectType: "grant",
            subjectId: grant.id,
            data: {},
          },
          now,
        );
      });
    },
  };
}

export type GrantEndService = ReturnType<typeof createGrantEndService>;
