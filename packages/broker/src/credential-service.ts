import { ConflictError, ForbiddenError, type Grant, NotFoundError, type Principal } from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";

type Deps = Pick<BrokerDeps, "store" | "cipher" | "clock" | "log">;

/** A delivered credential: the provider's secret fields and when it stops working. */
export type DeliveredCredential = {
  readonly grantId: string;
  readonly expiresAt: Date;
  readonly secret: Readonly<Record<string, string>>;
  /** The grant as read in the same transaction as its credential (it never carries the credential). */
  readonly grant: Grant;
};

/**
 * Credentials go only to the grant's own principal, only while the grant is active and before its
 * deadline, and every read is audited in the same transaction that reads the sealed value (invariant 6).
 */
export function createCredentialService({ store, cipher, clock, log }: Deps) {
  return {
    async credentials(principal: Principal, grantId: string): Promise<DeliveredCredential> {
      const now = clock();
      const read = await commitAudited(store, now, async (repos, record) => {
        const grant = await repos.grants.findById(grantId);
        if (!grant) throw new NotFoundError("there is no such grant");
        if (grant.principalId !== principal.id) {
          throw new ForbiddenError("only the principal a grant was issued to may fetch its credentials");
        }
        if (grant.state !== "active" || !grant.expiresAt || grant.expiresAt <= now) {
          throw new ConflictError(
            `this grant is ${grant.state === "active" ? "past its deadline" : grant.state}`,
          );
        }
        const stored = await repos.grants.readCredential(grant.id);
        if (!stored) throw new ConflictError("this grant holds no credential");
        record({
          actor: principal.id,
          action: "grant.credentials_read",
          subjectType: "grant",
          subjectId: grant.id,
          data: {},
        });
        return { sealed: stored, expiresAt: grant.expiresAt, grant };
      });
      log.info({ grantId, principal: principal.id }, "credentials delivered");
      return {
        grantId,
        expiresAt: read.expiresAt,
        secret: cipher.open(grantId, read.sealed),
        grant: read.grant,
      };
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
