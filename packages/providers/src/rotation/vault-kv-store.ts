import { UpstreamError } from "@leasehold/domain";
import { toVaultError, vaultStatus } from "../vault/vault-errors.js";
import type { VaultSession } from "../vault/vault-provider.js";
import { parseSecretValue, type SecretStore, sameSecretValue } from "./secret-store.js";

/**
 * A Vault KV v2 secret. KV has no staging, so the new value stays in Leasehold (sealed, with the run)
 * until the database has it; then it is written as a new version with check-and-set on the version read
 * at the start, so a concurrent writer is never overwritten. Earlier versions stay readable.
 */
export function vaultKvStore(session: VaultSession, mount: string, path: string): SecretStore {
  const dataPath = `${mount}/data/${path}`;
  const readLatest = async () => {
    const vault = await session.client();
    let out: { data?: { data?: unknown; metadata?: { version?: number } } };
    try {
      out = await vault.read(dataPath);
    } catch (error) {
      if (vaultStatus(error) === 404) {
        throw new UpstreamError(`Vault has no secret at ${dataPath}`, { retryable: false });
      }
      throw toVaultError(error, `Vault read of ${dataPath}`);
    }
    return {
      version: String(out.data?.metadata?.version ?? ""),
      value: parseSecretValue(JSON.stringify(out.data?.data ?? {}), `Vault secret ${dataPath}`),
    };
  };

  return {
    readCurrent: readLatest,
    readPending: async () => undefined,
    stagePending: async () => {},
    async promote(_token, value, baseVersion) {
      const current = await readLatest();
      if (sameSecretValue(current.value, value)) return;
      const vault = await session.client();
      try {
        // Check-and-set against the version the run started from: a concurrent writer wins, loudly.
        await vault.write(dataPath, { data: value, options: { cas: Number(baseVersion) } });
      } catch (error) {
        throw toVaultError(error, `Vault write of ${dataPath}`);
      }
    },
    isCurrent: async (_token, value) => sameSecretValue((await readLatest()).value, value),
  };
}
