import type { Store } from "@leasehold/db";
import { SYSTEM_ACTOR } from "@leasehold/domain";
import type { DenialLedger, DenialOutcome } from "@leasehold/providers";
import { commitAudited, moveGrant } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "queues" | "clock" | "log" | "metrics">;

/**
 * The database side of revocations that share one backend object (see DenialLedger): a lock every
 * worker respects, the grants the object must cover, and what the write came to, recorded. A
 * cut-off is audited (and so alerted) when it starts; live grants it could not keep are ended like
 * any revocation: `revoking` now, `revoked` once the worker has rewritten the role's denials.
 */
export function createDenialLedger(deps: Deps): DenialLedger {
  const { targets, queues, clock, log } = deps;

  const record = async (store: Store, outcome: DenialOutcome) => {
    const { cutoff, scope } = outcome;
    if (outcome.budget) deps.metrics?.iamPolicyBudgetUsed(scope, outcome.budget.used / outcome.budget.limit);
    if (!cutoff) return;
    const now = clock();
    const ended = await commitAudited(store, now, async (repos, write) => {
      if (!cutoff.continued) {
        write({
          actor: SYSTEM_ACTOR.worker,
          action: "revocation.cutoff",
          subjectType: "revocation",
          subjectId: scope,
          data: {
            role: scope,
            cutoffAt: cutoff.at.toISOString(),
            revocations: cutoff.revocations,
            kept: cutoff.kept,
            ended: outcome.ended.length,
          },
        });
      }
      const moved: string[] = [];
      const reason = `the revocation budget of ${scope} ran out and its cut-off could not keep this grant`;
      for (const grantId of outcome.ended) {
        const updated = await moveGrant(repos, write, grantId, {
          event: "revoke-requested",
          at: now,
          changes: { credential: null },
          actor: SYSTEM_ACTOR.worker,
          data: { reason },
        });
        if (updated) moved.push(grantId);
      }
      return moved;
    });
    if (!cutoff.continued) {
      log.error(
        {
          role: scope,
          cutoffAt: cutoff.at.toISOString(),
          revocations: cutoff.revocations,
          kept: cutoff.kept,
        },
        "REVOCATION BUDGET EXHAUSTED: sessions issued before the cut-off are refused",
      );
    }
    for (const grantId of ended) {
      await queues.revoke(grantId).catch((error: unknown) => {
        log.warn({ grantId, err: String(error) }, "could not enqueue revocation; the sweep will retry");
      });
    }
  };

  return {
    async exclusive(scope, work) {
      await deps.store.exclusive(scope.key, async (store) => {
        const targetIds = targets
          .list()
          .filter(scope.sameScope)
          .map((target) => target.id);
        const grants = await store.read((repos) =>
          repos.grants.listForDenials(targetIds, scope.excluding ?? null),
        );
        const outcome = await work(grants, clock());
        await record(store, outcome);
      });
    },
  };
}
