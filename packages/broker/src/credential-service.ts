import {
  type AuditEventInput,
  ConflictError,
  ForbiddenError,
  type Grant,
  NotFoundError,
  type Principal,
} from "@leasehold/domain";
import { type Credential, parseStoredCredential } from "@leasehold/providers";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { grantBinding } from "./credential-cipher.js";
import { authorizeGrantUse } from "./grant-access.js";
import { assertSealed } from "./grant-provenance.js";

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
 * Refuses to hand `grant`'s credential to `principal` unless it is theirs (for a lease, while its
 * lease rule still matches), its row is `sealed` (its MAC matches it), and it is active and before its
 * deadline at `now`.
 */
export function assertDeliverable(
  deps: Pick<BrokerDeps, "targets" | "policy" | "clock" | "log">,
  principal: Principal,
  grant: Grant,
  sealed: boolean,
  now: Date,
): asserts grant is Grant & { readonly expiresAt: Date } {
  authorizeGrantUse(deps, principal, grant, {
    others: null,
    otherwise: () => new ForbiddenError("only the principal a grant was issued to may fetch its credentials"),
  });
  assertSealed(deps.log, grant, sealed, "delivered");
  if (grant.state !== "active" || !grant.expiresAt || grant.expiresAt <= now) {
    throw new ConflictError(`this grant is ${grant.state === "active" ? "past its deadline" : grant.state}`);
  }
}

/** The audit event of a credential read, recorded in the transaction that reads (or writes) it. */
export const credentialsRead = (principal: Principal, grantId: string): AuditEventInput => ({
  actor: principal.id,
  action: "grant.credentials_read",
  subjectType: "grant",
  subjectId: grantId,
  data: {},
});

/** The credential of `grant` (active, read with it), as its holder receives it. */
export const delivered = (
  grant: Grant & { readonly expiresAt: Date },
  secret: Credential,
): DeliveredCredential => ({ grantId: grant.id, expiresAt: grant.expiresAt, secret, grant });

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
        // One statement reads the grant, its seal and its credential, and holds the row until commit.
        const found = await repos.grants.lockForDelivery(grantId);
        if (!found) throw new NotFoundError("there is no such grant");
        const { grant, sealed, credential } = found;
        assertDeliverable(deps, principal, grant, sealed, now);
        if (!credential) throw new ConflictError("this grant holds no credential");
        record(credentialsRead(principal, grant.id));
        return { sealed: credential, grant };
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
      // Also reads credentials sealed before they carried a kind.
      return delivered(read.grant, parseStoredCredential(opened));
    },
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
