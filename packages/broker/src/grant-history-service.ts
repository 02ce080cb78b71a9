import {
  type AuditEvent,
  ForbiddenError,
  type Grant,
  NotFoundError,
  type Principal,
} from "@leasehold/domain";
import { maySeeRequest } from "./authorization.js";
import type { BrokerDeps } from "./broker-deps.js";
import { authorizeGrantUse } from "./grant-access.js";
import { mayReadAudit } from "./policy-checks.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "policy" | "clock">;

/** The requester's grants on the target shown beside a request: enough to judge a pattern, no more. */
export const REQUEST_HISTORY_LIMIT = 20;
/** Audit events in a grant's timeline: a grant's life is a few dozen events, so this is never reached in practice. */
export const GRANT_TIMELINE_LIMIT = 200;

/**
 * What a reviewer or an admin looks at around one request or grant: the requester's earlier grants
 * on the target, a grant's story from the audit trail, and the grants whose revocation gave up.
 * Each is allowed exactly as its neighbour is (requests.get, grants.get, audit.list).
 */
export function createGrantHistoryService(deps: Deps) {
  const { store, targets } = deps;
  const noGrant = () => new NotFoundError("there is no such grant, or you may not see it");
  return {
    /** The requester's last grants on the request's target, newest first; for whoever may see the request. */
    async requestHistory(principal: Principal, requestId: string): Promise<Grant[]> {
      const [request, reviews] = await store.read((repos) =>
        Promise.all([repos.requests.findById(requestId), repos.requests.listReviews(requestId)]),
      );
      if (!request || !maySeeRequest(deps, principal, request, reviews, targets.get(request.targetId))) {
        throw new NotFoundError("there is no such request, or you may not see it");
      }
      return store.read((repos) =>
        repos.grants.listByPrincipalOnTarget(request.requesterId, request.targetId, REQUEST_HISTORY_LIMIT),
      );
    },

    /**
     * The audit events about a grant and the request it came from, oldest first; for whoever may see
     * the grant (its holder, and whoever may read the audit trail).
     */
    async timeline(principal: Principal, grantId: string): Promise<AuditEvent[]> {
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant) throw noGrant();
      authorizeGrantUse(deps, principal, grant, { others: "ReadAudit", otherwise: noGrant });
      const page = { afterSeq: 0, limit: GRANT_TIMELINE_LIMIT };
      const [aboutGrant, aboutRequest] = await store.read((repos) =>
        Promise.all([
          repos.audit.list({ ...page, subjectId: grant.id }),
          grant.requestId ? repos.audit.list({ ...page, subjectId: grant.requestId }) : [],
        ]),
      );
      return [...aboutGrant, ...aboutRequest].sort((a, b) => a.seq - b.seq).slice(0, GRANT_TIMELINE_LIMIT);
    },

    /** Grants whose revocation gave up (the credential may still work), longest unsettled first; admins. */
    async revocationDebt(principal: Principal, options: { limit: number }): Promise<Grant[]> {
      if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may read revocation debt");
      return store.read((repos) => repos.grants.listRevocationDebt(deps.clock(), options.limit));
    },
  };
}

export type GrantHistoryService = ReturnType<typeof createGrantHistoryService>;
