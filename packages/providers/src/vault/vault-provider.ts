import { type Grant, UpstreamError } from "@leasehold/domain";
import type NodeVault from "node-vault";
import { type CredentialProvider, issuedScopes, parseReference } from "../credential-provider.js";
import type { DatabaseCredential } from "../issued-credential.js";
import { createVaultDrift } from "./vault-drift.js";
import { toVaultError, vaultStatus } from "./vault-errors.js";
import {
  asVaultTarget,
  type VaultCheckpoint,
  type VaultIssuedReference,
  vaultReferenceSchema,
} from "./vault-schemas.js";

/** What Leasehold's own Vault identity can do; see vault-client.ts for how it logs in. */
export type VaultSession = {
  /** A client holding a valid Leasehold token (logging in again first if it is about to expire). */
  client(): Promise<NodeVault.client>;
};

/** The Vault provider, with its reference, checkpoint and credential types. */
export type VaultProvider = CredentialProvider<VaultIssuedReference, VaultCheckpoint, DatabaseCredential>;

/** The grant's stored reference, parsed: its lease and token, or only the checkpoint of an attempt. */
const referenceOf = (grant: Grant) => {
  const reference = parseReference(vaultReferenceSchema, grant, "Vault");
  return {
    leaseId: reference && "leaseId" in reference ? reference.leaseId : undefined,
    tokenAccessor: reference?.tokenAccessor,
    attempt: reference && "attempt" in reference ? Number(reference.attempt) : undefined,
  };
};

/**
 * Vault dynamic database credentials (`<mount>/creds/<role>`).
 *
 * Each issue attempt first creates a child token of Leasehold's, records its accessor (a checkpoint),
 * and only then reads the credentials with that child token, so the lease belongs to it. A retry after
 * a crash revokes the earlier attempt's token by its accessor, and Vault revokes every lease that token
 * created: no credential from an interrupted attempt survives, even though its lease id was never
 * recorded. Revocation revokes the lease and the token; renewal renews the lease in place.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a provider is one object of the contract's methods over the session it closes over; each method is short.
export function createVaultProvider(session: VaultSession): VaultProvider {
  const revokeAccessor = async (vault: NodeVault.client, accessor: string | undefined) => {
    if (!accessor) return;
    try {
      await vault.write("auth/token/revoke-accessor", { accessor });
    } catch (error) {
      // A token that is already gone (revoked, or past its TTL) took its leases with it.
      if (vaultStatus(error) === 400) return;
      throw toVaultError(error, "Vault token revocation");
    }
  };

  const end = async (grant: Grant) => {
    const { leaseId, tokenAccessor } = referenceOf(grant);
    const vault = await session.client();
    if (leaseId) {
      try {
        await vault.write("sys/leases/revoke", { lease_id: leaseId });
      } catch (error) {
        throw toVaultError(error, `Vault lease revocation for grant ${grant.id}`);
      }
    }
    await revokeAccessor(vault, tokenAccessor);
  };

  return {
    kind: "vault",

    async issue({ grant, target: anyTarget, approval, checkpoint }) {
      const target = asVaultTarget(anyTarget);
      // A scope names another role's path (read-write beside read-only); the target's path otherwise.
      const [scope] = issuedScopes(target, approval);
      const path = scope?.vault.path ?? target.vault.path;
      const vault = await session.client();
      let child: { client_token: string; accessor: string };
      try {
        // A plain write, not node-vault's tokenCreate, which would switch this client to the new token.
        const created = await vault.write("auth/token/create", {
          // Vault revokes a token's leases when it expires: it lives as long as the grant may.
          ttl: `${target.maxDurationSeconds + 300}s`,
          renewable: false,
          display_name: `leasehold-${grant.id.slice(0, 8)}`,
          meta: { grant: grant.id, attempt: String(grant.issueAttempts) },
        });
        child = created.auth;
      } catch (error) {
        throw toVaultError(error, "Vault token creation");
      }
      await checkpoint({ tokenAccessor: child.accessor, attempt: String(grant.issueAttempts) });

      let lease: { lease_id: string; lease_duration: number; data: { username: string; password: string } };
      try {
        lease = await vault.read(path, { headers: { "X-Vault-Token": child.client_token } });
      } catch (error) {
        await revokeAccessor(vault, child.accessor).catch(() => {});
        throw toVaultError(error, `Vault read of ${path}`);
      }
      if (!lease?.lease_id || !lease.data?.username || !lease.data.password) {
        await revokeAccessor(vault, child.accessor).catch(() => {});
        throw new UpstreamError(`Vault answered ${path} without a lease`, { retryable: false });
      }
      // Leasehold ends the lease at the grant's deadline; a shorter Vault TTL is the deadline instead.
      const seconds = Math.min(grant.durationSeconds, lease.lease_duration);
      return {
        reference: { leaseId: lease.lease_id, tokenAccessor: child.accessor, username: lease.data.username },
        secret: { kind: "database", username: lease.data.username, password: lease.data.password },
        expiresAt: new Date(Date.now() + seconds * 1000),
      };
    },

    async discardEarlierAttempts({ grant }) {
      const previous = referenceOf(grant);
      if (previous.attempt !== undefined && previous.attempt < grant.issueAttempts) {
        await revokeAccessor(await session.client(), previous.tokenAccessor);
      }
    },

    revoke: ({ grant }) => end(grant),
    // Leasehold's deadline may come before Vault's TTL: end the lease now rather than trust it.
    expire: ({ grant }) => end(grant),
    async release() {},
    needsRelease: () => false,
    drift: createVaultDrift(session),
    scopeProblem: ({ scopes }) =>
      scopes.length > 1 ? "a Vault target's credentials come from one path: pick one scope" : undefined,

    async checkConnection() {
      const vault = await session.client();
      try {
        await vault.read("auth/token/lookup-self");
      } catch (error) {
        throw toVaultError(error, "Vault token lookup-self");
      }
    },

    async renew({ grant, expiresAt }) {
      const { leaseId } = referenceOf(grant);
      if (!leaseId) {
        throw new UpstreamError(`grant ${grant.id} holds no Vault lease to renew`, { retryable: false });
      }
      const vault = await session.client();
      const increment = Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000));
      try {
        const renewed = await vault.write("sys/leases/renew", {
          lease_id: leaseId,
          increment,
        });
        return { expiresAt: new Date(Date.now() + Math.min(increment, renewed.lease_duration) * 1000) };
      } catch (error) {
        throw toVaultError(error, `Vault lease renewal for grant ${grant.id}`);
      }
    },
  };
}
