import { type Grant, NotFoundError, type Principal } from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { authorizeGrantUse, maySeeGrant } from "./grant-access.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "policy" | "clock">;

const notFound = () => new NotFoundError("there is no such grant, or you may not see it");

/**
 * Reading grants (never their credentials): the holder and whoever may read the audit trail may see a grant; a lease only while
 * its lease rule still matches the caller.
 */
export function createGrantQueryService(deps: Deps) {
  const { store } = deps;
  return {
    async get(principal: Principal, grantId: string): Promise<Grant> {
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant) throw notFound();
      authorizeGrantUse(deps, principal, grant, { others: "ReadAudit", otherwise: notFound });
      return grant;
    },

    /** The caller's own grants, newest first, without the leases its current claims no longer allow. */
    list: async (principal: Principal, limit: number): Promise<Grant[]> =>
      (await store.read((repos) => repos.grants.listByPrincipal(principal.id, limit))).filter((grant) =>
        maySeeGrant(deps, principal, grant),
      ),
  };
}

export type GrantQueryService = ReturnType<typeof createGrantQueryService>;
