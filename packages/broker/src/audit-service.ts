import type { AuditVerification } from "@leasehold/db";
import { type AuditEvent, ForbiddenError, type Principal } from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { mayReadAudit } from "./policy-checks.js";

type Deps = Pick<BrokerDeps, "store" | "policy" | "clock" | "log">;

/** Reading and verifying the audit trail: whom the ReadAudit policies allow (leasehold.yaml's admins). */
export function createAuditService(deps: Deps) {
  const { store, log } = deps;
  const assertAdmin = (principal: Principal) => {
    if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may read the audit trail");
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
