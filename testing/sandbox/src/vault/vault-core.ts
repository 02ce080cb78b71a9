import { createVaultAppRoles } from "./vault-approle.js";
import { createVaultKv } from "./vault-kv.js";
import { createVaultLeases } from "./vault-leases.js";
import type { VaultSandboxOptions } from "./vault-sandbox-types.js";
import { createVaultState, whenIdle } from "./vault-state.js";
import { createVaultTokens } from "./vault-tokens.js";

export type { TokenEntry } from "./vault-state.js";

/**
 * The stand-in's memory and the rules Vault applies to it, over one shared state (vault-state.ts): the
 * token tree (vault-tokens.ts), database leases owned by the token that created them (vault-leases.ts) and
 * KV v2 secrets (vault-kv.ts). HTTP lives in vault-routes.ts and vault-sandbox.ts.
 */
export function createVaultCore(options: VaultSandboxOptions) {
  const state = createVaultState(options);
  const leases = createVaultLeases(state);
  const appRoles = createVaultAppRoles(options.approle ?? [], state.clock);
  const tokens = createVaultTokens(state, leases, options, appRoles);
  const kv = createVaultKv(state);

  /** Expires what is due by the clock: tokens (and their trees), then leases and revocation retries. */
  function sweep(): void {
    const now = state.clock();
    tokens.sweepTokens(now);
    leases.sweepLeases(now);
  }

  return {
    clock: state.clock,
    kvMount: state.kvMount,
    databaseMounts: state.databaseMounts,
    setDatabaseFailing: (failing: boolean) => {
      state.databaseFailing = failing;
    },
    ...tokens,
    appRoles,
    ...leases,
    ...kv,
    sweep,
    whenIdle: () => whenIdle(state),
    /** Forgets KV data and ends the database outage (tokens and leases stay). */
    resetData(): void {
      state.kvSecrets.clear();
      state.databaseFailing = false;
    },
    async close(): Promise<void> {
      await whenIdle(state);
      await Promise.all([...state.roles.values()].map((role) => role.engine.close()));
    },
  };
}

export type VaultCore = ReturnType<typeof createVaultCore>;
