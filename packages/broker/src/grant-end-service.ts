import {
  ConflictError,
  ForbiddenError,
  type Grant,
  NotFoundError,
  nextGrantState,
  type Principal,
  type RevokeGrantInput,
  SYSTEM_ACTOR,
  UpstreamError,
} from "@leasehold/domain";
import { isAdmin } from "./authorization.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { describeFailure, isRetryable } from "./failures.js";
import { transitionGrant } from "./grant-transition.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "providers" | "queues" | "clock" | "admins" | "log">;

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
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant || (grant.state !== "active" && grant.state !== "revocation_failed") || !grant.expiresAt) {
        return "skipped";
      }
      if (grant.expiresAt > clock()) {
        throw new UpstreamError(`grant ${grantId} is not due until ${grant.expiresAt.toISOString()}`, {
          retryable: true,
        });
      }
      try {
        const target = targetOf(grant);
        const provider = providers.get(target.kind);
        await provider.expire({ grant, target, signal: attempt.signal });
        const now = clock();
        const ended = await store.transaction(async (repos) => {
          const expired = await transitionGrant(repos, grant.id, {
            from: ["active", "revocation_failed"],
            to: "expired",
            at: now,
            changes: { endedAt: now, credential: null, lastError: null },
            actor: SYSTEM_ACTOR.worker,
            action: "grant.expired",
            data: { deadline: grant.expiresAt?.toISOString() ?? null },
          });
          if (expired && !provider.needsRelease(expired)) await repos.grants.markReleased(grant.id, now);
          return expired;
        });
        if (ended)
          log.info({ grantId, lateMs: now.getTime() - (grant.expiresAt?.getTime() ?? 0) }, "grant expired");
        return ended ? "expired" : "skipped";
      } catch (error) {
        if (!isRetryable(error) || attempt.isLast) await recordDebt(grant, error, "expire");
        throw error;
      }
    },

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
