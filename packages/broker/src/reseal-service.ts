import { FIRST_ID, type Repositories, type UnderPreviousKeys } from "@leasehold/db";
import type { BrokerDeps } from "./broker-deps.js";
import { type CredentialCipher, grantBinding, type SealBinding } from "./credential-cipher.js";
import { vaultSecretIdBinding } from "./vault-secret-id-rotation.js";

type Deps = Pick<BrokerDeps, "store" | "cipher" | "log" | "metrics">;

export type ResealOptions = {
  /** Values changed per transaction. */
  readonly batchSize: number;
  /** Batches of each kind per run; a run that stops at this many reports itself behind. */
  readonly batchesPerRun: number;
};

/**
 * Leasehold's own AppRole role id, when it logs in to Vault with AppRole: its stored secret ids are
 * sealed bound to it (vault-secret-id-rotation.ts), so only with it can they be re-sealed.
 */
export type ResealScope = { readonly vaultRoleId?: string | undefined };

export const DEFAULT_RESEAL_OPTIONS: ResealOptions = { batchSize: 100, batchesPerRun: 20 };

/** One batch: how many values it read, the last id read (where the next batch starts) and what it left. */
type Batch = { readonly read: number; readonly last: string; readonly unmoved: readonly string[] };

export type ResealRun = {
  /** Values read under a previous key (moved, or left when they could not be). */
  readonly read: number;
  /** Ids of values that open under no key of the ring or whose MAC matches none: changed outside Leasehold. */
  readonly unmoved: readonly string[];
  /** True when the run stopped at its batch limit: more may be waiting. */
  readonly behind: boolean;
};

/**
 * After a master key rotation, moves what is sealed under a previous key to the current one, in the
 * background (the worker's sweep): active grants' credentials, running rotations' staged values,
 * grant rows' MACs and Leasehold's own stored Vault secret ids. Each batch is one transaction that locks its rows and skips rows another worker
 * holds, so workers share the work, a crash loses at most one uncommitted batch, and a value moved
 * once is not read again (it starts with the current key's mark). `remaining` says when the previous
 * keys can be dropped.
 */
export function createResealService(
  deps: Deps,
  options: ResealOptions = DEFAULT_RESEAL_OPTIONS,
  scope: ResealScope = {},
) {
  const { store, cipher, log } = deps;

  /** What is still under a previous master key: when all are zero, LEASEHOLD_MASTER_KEYS_PREVIOUS can go. */
  const remaining = (): Promise<UnderPreviousKeys> =>
    store.read((repos) => repos.reseal.underPreviousKeys(cipher.currentPrefix));

  const batches = batchKinds(cipher, options.batchSize, scope);

  /** Runs `batch` from the first id until a batch comes back short, the limit is reached or `signal` aborts. */
  const pass = async (batch: BatchOf, signal?: AbortSignal) => {
    let after = FIRST_ID;
    let read = 0;
    const unmoved: string[] = [];
    for (let n = 0; n < options.batchesPerRun; n++) {
      if (signal?.aborted) return { read, unmoved, behind: true };
      const done = await store.transaction((repos) => batch(repos, after));
      read += done.read;
      unmoved.push(...done.unmoved);
      if (done.read < options.batchSize) return { read, unmoved, behind: false };
      after = done.last;
    }
    return { read, unmoved, behind: true };
  };

  return {
    /**
     * One run of the re-seal (the worker's sweep step): moves what it can, then counts what is left for
     * the `leasehold_sealed_under_previous_keys` gauge. Reads but changes nothing once all is moved; with
     * no previous key in the ring, does nothing at all.
     */
    async run(signal?: AbortSignal): Promise<ResealRun> {
      // No previous key (the usual case): nothing under another key can be opened, so nothing is read.
      if (!cipher.hasPreviousKeys) return { read: 0, unmoved: [], behind: false };
      const runs = [];
      for (const batch of batches) runs.push(await pass(batch, signal));
      const result = {
        read: runs.reduce((sum, r) => sum + r.read, 0),
        unmoved: runs.flatMap((r) => r.unmoved),
        behind: runs.some((r) => r.behind),
      };
      if (result.unmoved.length > 0) {
        log.warn(
          { ids: result.unmoved.slice(0, 20), count: result.unmoved.length },
          "values under a previous master key that no key opens (changed outside Leasehold) were left as they are",
        );
      }
      if (result.read > result.unmoved.length) {
        // Behind: the run stopped at its batch limit, and the rest waits for the next (a minute later).
        log.info(
          { moved: result.read - result.unmoved.length, behind: result.behind },
          "re-sealed values under the current master key",
        );
      }
      const left = await remaining();
      deps.metrics?.sealedUnderPreviousKeys("credential", left.credentials);
      deps.metrics?.sealedUnderPreviousKeys("staged_value", left.stagedValues);
      deps.metrics?.sealedUnderPreviousKeys("grant_mac", left.grantMacs);
      deps.metrics?.sealedUnderPreviousKeys("vault_secret_id", left.vaultSecretIds);
      return result;
    },

    remaining,
  };
}

export type ResealService = ReturnType<typeof createResealService>;

type BatchOf = (repos: Repositories, after: string) => Promise<Batch>;

/**
 * The kinds of batch, in the order a run takes them: credentials, staged values, grant MACs, and the
 * stored Vault secret ids when Leasehold logs in with AppRole.
 */
function batchKinds(cipher: CredentialCipher, size: number, scope: ResealScope): readonly BatchOf[] {
  /** Opens each value and seals it anew under the current key; a value no key of the ring opens is left. */
  const resealAll = async (
    rows: readonly { readonly id: string; readonly sealed: Buffer; readonly binding: SealBinding }[],
    replace: (id: string, sealed: Buffer) => Promise<void>,
    after: string,
  ): Promise<Batch> => {
    const unmoved: string[] = [];
    for (const row of rows) {
      const sealed = resealed(cipher, row.binding, row.sealed);
      if (sealed) await replace(row.id, sealed);
      else unmoved.push(row.id);
    }
    return { read: rows.length, last: rows.at(-1)?.id ?? after, unmoved };
  };
  const { vaultRoleId } = scope;
  const vaultSecretIds: BatchOf[] =
    vaultRoleId === undefined
      ? []
      : [
          async (repos, after) => {
            const rows = await repos.reseal.vaultSecretIds(cipher.currentPrefix, after, size);
            const bound = rows.map((row) => ({ ...row, binding: vaultSecretIdBinding(row.id, vaultRoleId) }));
            return resealAll(bound, repos.reseal.replaceVaultSecretId, after);
          },
        ];
  return [
    async (repos, after) => {
      const rows = await repos.reseal.credentials(cipher.currentPrefix, after, size);
      const bound = rows.map((row) => ({ ...row, binding: grantBinding(row) }));
      return resealAll(bound, repos.reseal.replaceCredential, after);
    },
    async (repos, after) => {
      const rows = await repos.reseal.stagedValues(cipher.currentPrefix, after, size);
      // A run's staged value is bound to the run (rotation-service.ts).
      const bound = rows.map((row) => ({ ...row, binding: { id: row.id } }));
      return resealAll(bound, repos.reseal.replaceStagedValue, after);
    },
    async (repos, after) => {
      const { read, last, unsealed } = await repos.reseal.grantMacs(after, size);
      return { read, last, unmoved: unsealed };
    },
    ...vaultSecretIds,
  ];
}

/** The value sealed anew under the current key; undefined when no key of the ring opens it. */
function resealed(cipher: CredentialCipher, binding: SealBinding, sealed: Buffer): Buffer | undefined {
  let opened: unknown;
  try {
    opened = cipher.open(binding, sealed);
  } catch {
    return undefined;
  }
  return typeof opened === "object" && opened !== null && !Array.isArray(opened)
    ? cipher.seal(binding, opened as Record<string, unknown>)
    : undefined;
}
