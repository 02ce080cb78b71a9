import {
  ConflictError,
  canApplyGrantEvent,
  ForbiddenError,
  type Grant,
  NotFoundError,
  nextGrantState,
  noMetrics,
  type Principal,
  type RevokeGrantInput,
  SYSTEM_ACTOR,
} from "@leasehold/domain";
import { commitAudited, commitGrantStep, moveGrant } from "./audited-change.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { createDenialLedger } from "./denial-ledger.js";
import { isRetryable } from "./failures.js";
import { authorizeGrantUse } from "./grant-access.js";
import { recordRevocationDebt } from "./revocation-debt.js";
import { targetOfGrant } from "./target-of-grant.js";

type Deps = Pick<
  BrokerDeps,
  "store" | "targets" | "providers" | "queues" | "clock" | "policy" | "log" | "metrics"
>;

/**
 * How grants end early (revoke: asked for by a person, carried out by the worker) and the clean-up
 * after the deadline (release). The provider is called first and the commit comes after (invariant
 * 8); when the provider keeps failing, the grant becomes revocation debt, retried by the sweep.
 */
export function createRevocationService(deps: Deps) {
  const { store, targets, providers, queues, clock, log } = deps;
  const metrics = deps.metrics ?? noMetrics;
  // Revocations that share one backend object (an IAM role) are written through it.
  const denials = createDenialLedger(deps);
  return {
    /**
     * The holder (of a lease: while its lease rule still matches) or an admin ends an active grant now.
     * The provider call happens in the worker.
     */
    async revoke(principal: Principal, input: RevokeGrantInput): Promise<Grant> {
      const now = clock();
      const grant = await commitAudited(store, now, async (repos, record) => {
        const current = await repos.grants.lockById(input.grantId);
        if (!current) throw new NotFoundError("there is no such grant");
        authorizeGrantUse(deps, principal, current, {
          others: "Revoke",
          otherwise: () => new ForbiddenError("only the grant's holder or an admin may revoke it"),
        });
        if (current.state === "issuing") {
          throw new ConflictError("this grant is still being issued; revoke it once it is active");
        }
        nextGrantState(current.state, "revoke-requested");
        // The credential is wiped now: nobody can fetch it again while the provider revokes it.
        const updated = await moveGrant(repos, record, current.id, {
          event: "revoke-requested",
          at: now,
          changes: { credential: null },
          actor: principal.id,
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
    async finishRevoke(grantId: string, attempt: Attempt): Promise<"revoked" | "skipped"> {
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant || !canApplyGrantEvent(grant.state, "revoked")) return "skipped";
      try {
        const target = targetOfGrant(targets, grant);
        const calledAt = clock().getTime();
        await providers.get(target.kind).revoke({ grant, target, signal: attempt.signal, denials });
        const now = clock();
        metrics.revokeCompleted(target.kind, (now.getTime() - calledAt) / 1000);
        await commitGrantStep(store, grant.id, {
          event: "revoked",
          at: now,
          changes: { endedAt: now, credential: null, lastError: null },
          actor: SYSTEM_ACTOR.worker,
        });
        log.info({ grantId }, "grant revoked");
        return "revoked";
      } catch (error) {
        if (!isRetryable(error) || attempt.isLast) await recordRevocationDebt(deps, grant, error, "revoke");
        throw error;
      }
    },

    /**
     * After the deadline: removes what revocation left at the provider (run by the sweep). Every
     * worker sweeps, so another may be releasing the same grant at this moment: the provider's
     * release is idempotent, and only the sweep that marks the grant released records it. Returns
     * whether this call was that one.
     */
    async release(grant: Grant, signal?: AbortSignal): Promise<boolean> {
      const target = targetOfGrant(targets, grant);
      const provider = providers.get(target.kind);
      const needed = provider.needsRelease(grant);
      if (needed) await provider.release({ grant, target, signal, denials });
      const now = clock();
      return commitAudited(store, now, async (repos, record) => {
        if (!(await repos.grants.markReleased(grant.id, now))) return false;
        if (!needed) return true;
        record({
          actor: SYSTEM_ACTOR.sweep,
          action: "grant.released",
          subjectType: "grant",
          subjectId: grant.id,
          data: {},
        });
        return true;
      });
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
