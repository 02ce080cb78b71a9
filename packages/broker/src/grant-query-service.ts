import { type Grant, NotFoundError, type Principal } from "@leasehold/domain";
import { isAdmin } from "./authorization.js";
import type { BrokerDeps } from "./broker-deps.js";

type Deps = Pick<BrokerDeps, "store" | "admins">;

/** Reading grants (never their credentials): the holder and admins may see a grant. */
export function createGrantQueryService({ store, admins }: Deps) {
  return {
    async get(principal: Principal, grantId: string): Promise<Grant> {
      const grant = await store.read((repos) => repos.grants.findById(grantId));
      if (!grant || (grant.principalId !== principal.id && !isAdmin(principal, admins))) {
        throw new NotFoundError("there is no such grant, or you may not see it");
      }
      return grant;
    },

    /** The caller's own grants, newest first. */
    list: (principal: Principal, limit: number): Promise<Grant[]> =>
      store.read((repos) => repos.grants.listByPrincipal(principal.id, limit)),
  };
}

export type GrantQueryService = ReturnType<typeof createGrantQueryService>;
