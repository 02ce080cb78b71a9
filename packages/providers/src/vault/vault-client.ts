import nodeVault from "node-vault";
import { toVaultError } from "./vault-errors.js";
import type { VaultSession } from "./vault-provider.js";

export type VaultSettings = {
  readonly address: string;
  readonly namespace?: string | undefined;
  /** A token, or AppRole credentials to log in with (exactly one; env.ts checks it). */
  readonly auth: { readonly token: string } | { readonly roleId: string; readonly secretId: string };
};

/** Log in again when Leasehold's own token has less than this left. */
const RELOGIN_MARGIN_MS = 60_000;

/**
 * Leasehold's Vault session, configured as Vault's own tools read it (VAULT_ADDR, VAULT_TOKEN or AppRole,
 * VAULT_NAMESPACE). With AppRole it logs in on first use and again before its token runs out.
 */
export function createVaultSession(settings: VaultSettings): VaultSession {
  const client = nodeVault({
    endpoint: settings.address,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
    ...("token" in settings.auth ? { token: settings.auth.token } : {}),
    requestOptions: { timeout: 10_000 },
  });
  let validUntil = "token" in settings.auth ? Number.POSITIVE_INFINITY : 0;
  return {
    async client() {
      if ("roleId" in settings.auth && Date.now() > validUntil - RELOGIN_MARGIN_MS) {
        let login: { auth: { client_token: string; lease_duration: number } };
        try {
          login = await client.approleLogin({
            role_id: settings.auth.roleId,
            secret_id: settings.auth.secretId,
          });
        } catch (error) {
          throw toVaultError(error, "Vault AppRole login");
        }
        client.token = login.auth.client_token;
        validUntil = Date.now() + login.auth.lease_duration * 1000;
      }
      return client;
    },
  };
}
