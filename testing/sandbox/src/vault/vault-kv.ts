import type { VaultKvVersionRecord } from "./vault-sandbox-types.js";
import type { KvVersion, VaultState } from "./vault-state.js";
import { envelope, VAULT_ERRORS, type VaultEnvelope, VaultHttpError } from "./vault-wire.js";

/** KV version 2 under `state.kvMount`: versioned secrets with check-and-set, soft delete and listing. */

/** KV v2 keeps this many versions per secret unless configured otherwise (Vault's default). */
export const KV_MAX_VERSIONS = 10;

export type VaultKv = ReturnType<typeof createVaultKv>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it is a closure over the KV map: each inner function is short and documented.
export function createVaultKv(state: VaultState) {
  const { clock, kvSecrets } = state;
  const kvMetadataOf = (version: KvVersion) => ({
    created_time: version.createdTime.toISOString(),
    custom_metadata: null,
    deletion_time: version.deletionTime?.toISOString() ?? "",
    destroyed: version.destroyed,
    version: version.version,
  });

  /** GET data/<path>[?version=n]: 404 `{"errors":[]}` when missing; a deleted version is a 404 with metadata. */
  function kvRead(path: string, versionParam: string | null): { status: number; body: unknown } {
    const secret = kvSecrets.get(path);
    if (secret === undefined) throw new VaultHttpError(404, []);
    const requested = versionParam === null || versionParam === "" ? 0 : Number(versionParam);
    if (!Number.isInteger(requested)) throw new VaultHttpError(400, ["version must be an integer"]);
    const number = requested > 0 ? requested : secret.currentVersion;
    const version = secret.versions.get(number);
    if (version === undefined) throw new VaultHttpError(404, []);
    const gone =
      version.destroyed ||
      (version.deletionTime !== undefined && version.deletionTime.getTime() <= clock().getTime());
    return {
      status: gone ? 404 : 200,
      body: envelope({
        data: { data: gone ? null : structuredClone(version.data), metadata: kvMetadataOf(version) },
      }),
    };
  }

  const kvExists = (path: string) => kvSecrets.has(path);

  function kvWrite(path: string, body: Record<string, unknown>): VaultEnvelope {
    const data = body.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new VaultHttpError(400, ["no data provided"]);
    }
    const now = clock();
    const secret = kvSecrets.get(path) ?? {
      versions: new Map<number, KvVersion>(),
      currentVersion: 0,
      createdTime: now,
      updatedTime: now,
    };
    const options = body.options;
    if (typeof options === "object" && options !== null && "cas" in options) {
      const cas = Number(options.cas);
      if (!Number.isInteger(cas)) throw new VaultHttpError(400, ["error parsing check-and-set parameter"]);
      if (cas !== secret.currentVersion) throw new VaultHttpError(400, [VAULT_ERRORS.casMismatch]);
    }
    const version: KvVersion = {
      version: secret.currentVersion + 1,
      data: structuredClone(data as Record<string, unknown>),
      createdTime: now,
      deletionTime: undefined,
      destroyed: false,
    };
    secret.versions.set(version.version, version);
    secret.currentVersion = version.version;
    secret.updatedTime = now;
    for (const number of [...secret.versions.keys()]) {
      if (number <= secret.currentVersion - KV_MAX_VERSIONS) secret.versions.delete(number);
    }
    kvSecrets.set(path, secret);
    return envelope({ data: kvMetadataOf(version) });
  }

  /** DELETE data/<path>: soft-deletes the current version (it stays listed in metadata). */
  function kvDelete(path: string): void {
    const secret = kvSecrets.get(path);
    const version = secret?.versions.get(secret.currentVersion);
    if (version !== undefined && version.deletionTime === undefined) version.deletionTime = clock();
  }

  function kvMetadata(path: string): VaultEnvelope {
    const secret = kvSecrets.get(path);
    if (secret === undefined) throw new VaultHttpError(404, []);
    const versions = Object.fromEntries(
      [...secret.versions.values()].map((version) => [
        String(version.version),
        {
          created_time: version.createdTime.toISOString(),
          deletion_time: version.deletionTime?.toISOString() ?? "",
          destroyed: version.destroyed,
        },
      ]),
    );
    return envelope({
      data: {
        cas_required: false,
        created_time: secret.createdTime.toISOString(),
        current_version: secret.currentVersion,
        custom_metadata: null,
        delete_version_after: "0s",
        max_versions: 0,
        oldest_version: Math.min(...secret.versions.keys()),
        updated_time: secret.updatedTime.toISOString(),
        versions,
      },
    });
  }

  function kvList(prefixInput: string): string[] {
    const prefix = prefixInput === "" || prefixInput.endsWith("/") ? prefixInput : `${prefixInput}/`;
    const keys = new Set<string>();
    for (const path of kvSecrets.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].sort();
  }

  const kvRecords = (path: string): VaultKvVersionRecord[] =>
    [...(kvSecrets.get(path)?.versions.values() ?? [])].map((version) => ({
      version: version.version,
      data: structuredClone(version.data),
      createdTime: version.createdTime,
      ...(version.deletionTime === undefined ? {} : { deletionTime: version.deletionTime }),
      destroyed: version.destroyed,
    }));

  return { kvRead, kvExists, kvWrite, kvDelete, kvMetadata, kvList, kvRecords };
}
