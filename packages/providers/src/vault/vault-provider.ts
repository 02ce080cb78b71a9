import { type Grant, type Target, UpstreamError, type VaultTarget } from "@leasehold/domain";
import type NodeVault from "node-vault";
import type { CredentialProvider } from "../credential-provider.js";
import { toVaultError, vaultStatus } from "./vault-errors.js";

/** What Leasehold's own Vault identity can do; see vault-client.ts for how it logs in. */
export type VaultSession = {
  /** A client holding a valid Leasehold token (logging in again first if it is about to expire). */
  client(): Promise<NodeVault.client>;
};

const asVault = (target: Target): VaultTarget => {
  if (target.kind !== "vault") throw new Error(`the Vault provider cannot serve ${target.kind} targets`);
  return target;
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
export function createVaultProvider(session: VaultSession): CredentialProvider {
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
    const vault = await session.client();
    const leaseId = grant.providerRef?.leaseId;
    if (leaseId) {
      try {
        await vault.write("sys/leases/revoke", { lease_id: leaseId });
      } catch (error) {
        throw toVaultError(error, `Vault lease revocation for grant ${grant.id}`);
      }
    }
    await revokeAccessor(vault, grant.providerRef?.tokenAccessor);
  };

  return {
    kind: "vault",

    async issue({ grant, target: anyTarget, checkpoint }) {
      const target = asVault(anyTarget);
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
        lease = await vault.read(target.vault.path, { headers: { "X-Vault-Token": child.client_token } });
      } catch (error) {
        await revokeAccessor(vault, child.accessor).catch(() => {});
        throw toVaultError(error, `Vault read of ${target.vault.path}`);
      }
      if (!lease?.lease_id || !lease.data?.username || !lease.data.password) {
        await revokeAccessor(vault, child.accessor).catch(() => {});
        throw new UpstreamError(`Vault answered ${target.vault.path} without a lease`, { retryable: false });
      }
      // Leasehold ends the lease at the grant's deadline; a shorter Vault TTL is the deadline instead.
      const seconds = Math.min(grant.durationSeconds, lease.lease_duration);
      return {
        reference: { leaseId: lease.lease_id, tokenAccessor: child.accessor, username: lease.data.username },
        secret: { username: lease.data.username, password: lease.data.password },
        expiresAt: new Date(Date.now() + seconds * 1000),
      };
    },

    async discardEarlierAttempts({ grant }) {
      const vault = await session.client();
      const previous = grant.providerRef;
      if (previous?.attempt !== undefined && Number(previous.attempt) < grant.issueAttempts) {
        await revokeAccessor(vault, previous.tokenAccessor);
      }
    },

    revoke: ({ grant }) => end(grant),
    // Leasehold's deadline may come before Vault's TTL: end the lease now rather than trust it.
    expire: ({ grant }) => end(grant),
    async release() {},
    needsRelease: () => false,

    async renew({ grant, expiresAt }) {
      const vault = await session.client();
      const increment = Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000));
      try {
        const renewed = await vault.write("sys/leases/renew", {
          lease_id: grant.providerRef?.leaseId,
          increment,
        });
        return { expiresAt: new Date(Date.now() + Math.min(increment, renewed.lease_duration) * 1000) };
      } catch (error) {
        throw toVaultError(error, `Vault lease renewal for grant ${grant.id}`);
      }
    },
  };
}
