import type { IncidentBoundGrant } from "@leasehold/db";
import { type OnCallProvider, SYSTEM_ACTOR } from "@leasehold/domain";
import { commitAudited, moveGrant } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { describeFailure } from "./failures.js";

type Deps = Pick<BrokerDeps, "store" | "onCall" | "queues" | "clock" | "log">;

/**
 * Grants approved because their holder was on an incident end when the incident does: the sweep asks
 * the provider about each such grant's incidents, and a PagerDuty webhook points at the grants of one
 * incident at once. Only when none of a grant's incidents is open is it revoked (by `system:incident`).
 */
export function createIncidentGrantService({ store, onCall, queues, clock, log }: Deps) {
  /** Revokes the grant when none of its incidents is open; true when it did. */
  const endIfResolved = async (bound: IncidentBoundGrant): Promise<boolean> => {
    if (!onCall) return false;
    for (const incidentId of bound.incidentIds) {
      if (await onCall.incidentOpen(bound.binding, incidentId)) return false;
    }
    const now = clock();
    const moved = await commitAudited(store, now, async (repos, record) => {
      const grant = await repos.grants.lockById(bound.grantId);
      // Still issuing: the next sweep ends it once it is active.
      if (grant?.state !== "active") return false;
      const updated = await moveGrant(repos, record, grant.id, {
        event: "revoke-requested",
        at: now,
        changes: { credential: null },
        actor: SYSTEM_ACTOR.incident,
        data: { reason: `the incident it rested on resolved (${bound.incidentIds.join(", ")})` },
      });
      return updated !== undefined;
    });
    if (!moved) return false;
    await queues.revoke(bound.grantId).catch((error: unknown) => {
      log.warn(
        { grantId: bound.grantId, err: String(error) },
        "could not enqueue revocation; the sweep will retry",
      );
    });
    log.info({ grantId: bound.grantId, incidents: bound.incidentIds }, "incident resolved: grant revoked");
    return true;
  };

  const endAll = async (bound: readonly IncidentBoundGrant[]): Promise<number> => {
    let ended = 0;
    for (const grant of bound) {
      try {
        if (await endIfResolved(grant)) ended += 1;
      } catch (error) {
        // The provider could not say: the grant stays until it can (or until its own deadline).
        log.warn(
          { grantId: grant.grantId, error: describeFailure(error) },
          "incident check failed; the sweep retries",
        );
      }
    }
    return ended;
  };

  return {
    /** The sweep: every live grant resting on incidents, asked about. */
    endResolved: async (limit: number): Promise<number> =>
      endAll(await store.read((repos) => repos.autoApprovals.listIncidentBound(limit))),

    /** A provider said this incident resolved: the grants resting on it, asked about now. */
    incidentResolved: async (provider: OnCallProvider, incidentId: string): Promise<number> =>
      endAll(
        await store.read((repos) => repos.autoApprovals.listIncidentBound(1000, { provider, incidentId })),
      ),
  };
}

export type IncidentGrantService = ReturnType<typeof createIncidentGrantService>;
