import { ConflictError, ForbiddenError, type Grant, NotFoundError, type Principal } from "@leasehold/domain";
import { type Credential, parseStoredCredential } from "@leasehold/providers";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { grantBinding } from "./credential-cipher.js";
import { authorizeGrantUse } from "./grant-access.js";
import { assertGrantSealed } from "./grant-provenance.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "policy" | "cipher" | "clock" | "log">;

/** A delivered credential: its kind and secret fields, and when it stops working. */
export type DeliveredCredential = {
  readonly grantId: string;
  readonly expiresAt: Date;
  readonly secret: Credential;
  /** The grant as read in the same transaction as its credential (it never carries the credential). */
  readonly grant: Grant;
};

/**
 * Credentials go only to the grant's own principal (for a lease, only while its lease rule still matches),
 * only while the grant is active and before its deadline, and every read is audited in the same
 * transaction that reads the sealed value (invariant 6). Admins cannot read them either.
 */
export function createCredentialService(deps: Deps) {
  const { store, cipher, clock, log } = deps;
  return {
    async credentials(principal: Principal, grantId: string): Promise<DeliveredCredential> {
      const now = clock();
      const read = await commitAudited(store, now, async (repos, record) => {
        const grant = await repos.grants.findById(grantId);
        if (!grant) throw new NotFoundError("there is no such grant");
        authorizeGrantUse(deps, principal, grant, {
          others: null,
          otherwise: () =>
            new ForbiddenError("only the principal a grant was issued to may fetch its credentials"),
        });
        await assertGrantSealed(repos, log, grant, "delivered");
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
      let opened: unknown;
      try {
        opened = cipher.open(grantBinding(read.grant), read.sealed);
      } catch {
        // Sealed for another grant, holder or target: the row was changed outside Leasehold.
        log.error(
          { grantId },
          "CREDENTIAL NOT DELIVERED: it does not open for this grant's holder and target",
        );
        throw new ConflictError("this grant's stored credential does not belong to it; it is not delivered");
      }
      log.info({ grantId, principal: principal.id }, "credentials delivered");
      return {
        grantId,
        expiresAt: read.expiresAt,
        // Also reads credentials sealed before they carried a kind.
        secret: parseStoredCredential(opened),
        grant: read.grant,
      };
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
