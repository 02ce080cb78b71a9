import { createHash } from "node:crypto";
import type NodeVault from "node-vault";
import type { BackendLeftover, DriftScanner } from "../drift.js";
import { toVaultError, vaultStatus } from "./vault-errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Vault prefixes a token's display name with `token-`; the provider names its child tokens `leasehold-<grant>`. */
const DISPLAY_NAME = /^token-leasehold-/;
/** Accessor lookups in flight at once. */
const LOOKUPS_AT_ONCE = 8;

/** An accessor can revoke its token: the audit trail and the logs see only a short fingerprint. */
const fingerprint = (accessor: string) => createHash("sha256").update(accessor).digest("hex").slice(0, 12);

type AccessorLookup = { data?: { display_name?: unknown; meta?: Record<string, unknown> | null } };

/**
 * The Vault provider's drift scan: the child tokens it creates, one per issue attempt (display name
 * `leasehold-…`, metadata `grant` and `attempt`), found with `LIST auth/token/accessors` and
 * `auth/token/lookup-accessor` (both need sudo on their paths, as in Vault). Every Vault lease
 * Leasehold reads belongs to one of these tokens, and revoking a token revokes its leases, so
 * revoking a leftover token ends its leases too. All Vault targets share the session (a VaultSession,
 * typed by shape here so that this module and vault-provider.ts do not import each other): one scan.
 */
export function createVaultDrift(session: { client(): Promise<NodeVault.client> }): DriftScanner {
  const lookup = async (vault: NodeVault.client, accessor: string): Promise<BackendLeftover[]> => {
    let found: AccessorLookup;
    try {
      found = await vault.write("auth/token/lookup-accessor", { accessor });
    } catch (error) {
      // Gone between the listing and the lookup (revoked, or past its TTL).
      if (vaultStatus(error) === 400) return [];
      throw toVaultError(error, "Vault token lookup-accessor");
    }
    const displayName = found.data?.display_name;
    const grant = found.data?.meta?.grant;
    const attempt = found.data?.meta?.attempt;
    if (typeof displayName !== "string" || !DISPLAY_NAME.test(displayName)) return [];
    if (typeof grant !== "string" || !UUID.test(grant)) return [];
    const name = `token of grant ${grant} attempt ${typeof attempt === "string" ? attempt.slice(0, 12) : "?"} (accessor sha256 ${fingerprint(accessor)})`;
    return [{ kind: "vault-token", name, grant: { id: grant }, handle: accessor }];
  };

  return {
    scope: () => "vault",

    async list({ signal }) {
      const vault = await session.client();
      let accessors: string[];
      try {
        const listed: { data?: { keys?: unknown } } = await vault.list("auth/token/accessors");
        const keys = listed.data?.keys;
        accessors = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : [];
      } catch (error) {
        // Vault answers an empty list with 404.
        if (vaultStatus(error) === 404) return [];
        throw toVaultError(error, "Vault LIST auth/token/accessors");
      }
      const found: BackendLeftover[] = [];
      for (let i = 0; i < accessors.length; i += LOOKUPS_AT_ONCE) {
        signal?.throwIfAborted();
        const batch = accessors.slice(i, i + LOOKUPS_AT_ONCE);
        for (const leftovers of await Promise.all(batch.map((a) => lookup(vault, a))))
          found.push(...leftovers);
      }
      return found;
    },

    async remove({ leftover }) {
      const vault = await session.client();
      try {
        await vault.write("auth/token/revoke-accessor", { accessor: leftover.handle });
      } catch (error) {
        // Already gone, and its leases with it.
        if (vaultStatus(error) === 400) return;
        throw toVaultError(error, "Vault token revocation");
      }
    },
  };
}
