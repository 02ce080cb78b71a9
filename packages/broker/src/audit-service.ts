import type { AuditVerification } from "@leasehold/db";
import { type AuditEvent, ForbiddenError, type Principal } from "@leasehold/domain";
import { isAdmin } from "./authorization.js";
import type { BrokerDeps } from "./broker-deps.js";

type Deps = Pick<BrokerDeps, "store" | "admins" | "log">;

/** Reading and verifying the audit trail: admins only. */
export function createAuditService({ store, admins, log }: Deps) {
  const assertAdmin = (principal: Principal) => {
    if (!isAdmin(principal, admins)) throw new ForbiddenError("only admins may read the audit trail");
  };
  return {
    async list(
      principal: Principal,
      options: { afterSeq: number; limit: number; subjectId?: string | undefined },
    ): Promise<AuditEvent[]> {
      assertAdmin(principal);
      return store.read((repos) => repos.audit.list(options));
    },

    /** `expectedHead`: a head recorded outside the database earlier (from an earlier verify). */
    async verify(
      principal: Principal,
      expectedHead?: { readonly seq: number; readonly hash: string },
    ): Promise<AuditVerification> {
      assertAdmin(principal);
      const result = await store.read((repos) => repos.audit.verify(expectedHead));
      if (!result.ok) log.error({ problems: result.problems.slice(0, 10) }, "AUDIT CHAIN BROKEN");
      return result;
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
