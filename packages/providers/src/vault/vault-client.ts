import nodeVault from "node-vault";
import { toVaultError, vaultStatus } from "./vault-errors.js";
import type { VaultSession } from "./vault-provider.js";

export type VaultSettings = {
  readonly address: string;
  readonly namespace?: string | undefined;
  /**
   * A token, or AppRole credentials to log in with (exactly one; env.ts checks it). With AppRole,
   * `secretId` is the bootstrap: once Leasehold rotates its secret id, the stored one is used instead.
   */
  readonly auth: { readonly token: string } | { readonly roleId: string; readonly secretId: string };
};

/**
 * Where the newest rotated AppRole secret id is kept (the database, for every replica); undefined
 * before the first rotation, when the bootstrap secret id from the environment is used.
 */
export type StoredSecretId = () => Promise<string | undefined>;

/** Log in again when Leasehold's own token has less than this left. */
const RELOGIN_MARGIN_MS = 60_000;

/** node-vault pointed at the settings' Vault, with no token yet unless one is configured. */
export const vaultClientFor = (settings: Pick<VaultSettings, "address" | "namespace">, token?: string) =>
  nodeVault({
    endpoint: settings.address,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
    ...(token === undefined ? {} : { token }),
    requestOptions: { timeout: 10_000 },
  });

/** Vault refused the role id and secret id (400 "invalid role or secret ID"; 403 behind some policies). */
export const isLoginRefusal = (error: unknown) => {
  const status = vaultStatus(error);
  return status === 400 || status === 403;
};

/**
 * Leasehold's Vault session, configured as Vault's own tools read it (VAULT_ADDR, VAULT_TOKEN or AppRole,
 * VAULT_NAMESPACE). With AppRole it logs in on first use and again before its token runs out, with the
 * newest stored secret id (or the bootstrap one). A refused login reads the store once more before
 * failing: another replica may have rotated the secret id since this one read it.
 */
export function createVaultSession(settings: VaultSettings, stored: StoredSecretId = async () => undefined) {
  const client = vaultClientFor(settings, "token" in settings.auth ? settings.auth.token : undefined);
  let validUntil = "token" in settings.auth ? Number.POSITIVE_INFINITY : 0;

  const logIn = async (roleId: string, bootstrap: string) => {
    const first = (await stored()) ?? bootstrap;
    const attempt = (secretId: string) => client.approleLogin({ role_id: roleId, secret_id: secretId });
    try {
      return await attempt(first);
    } catch (error) {
      if (!isLoginRefusal(error)) throw error;
      const again = (await stored()) ?? bootstrap;
      if (again === first) throw error;
      return await attempt(again);
    }
  };

  const session: VaultSession = {
    async client() {
      if ("roleId" in settings.auth && Date.now() > validUntil - RELOGIN_MARGIN_MS) {
        let login: { auth: { client_token: string; lease_duration: number } };
        try {
          login = await logIn(settings.auth.roleId, settings.auth.secretId);
        } catch (error) {
          throw toVaultError(error, "Vault AppRole login");
        }
        client.token = login.auth.client_token;
        validUntil = Date.now() + login.auth.lease_duration * 1000;
      }
      return client;
    },
  };
  return session;
}
