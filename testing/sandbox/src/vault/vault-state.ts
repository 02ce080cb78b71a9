import { DEFAULT_POLICY, validatePolicyPath } from "./vault-acl.js";
import { createDatabaseEngine, type DatabaseEngine } from "./vault-database-engine.js";
import type {
  VaultDatabaseRole,
  VaultLeaseRevocationReason,
  VaultPolicyRule,
  VaultSandboxOptions,
} from "./vault-sandbox-types.js";

/**
 * The Vault stand-in's memory, one object shared by its parts: tokens (vault-tokens.ts), database leases
 * (vault-leases.ts) and KV version 2 (vault-kv.ts); vault-core.ts puts them together.
 *
 * Time: everything reads `clock()`. Expiry runs from `sweep()` (vault-core.ts), which the server calls on
 * a 100 ms timer and before every request, so a lease is revoked within ~0.1 s of its deadline without any
 * client call, and a test clock moved forward takes effect on the next tick.
 */

export type TokenEntry = {
  id: string;
  accessor: string;
  /** Sorted, without duplicates; "root" for root tokens. */
  policies: string[];
  displayName: string;
  meta: Record<string, string> | null;
  /** The creation path (`auth/token/root`, `auth/token/create`, `auth/approle/login`). */
  path: string;
  parentId: string | undefined;
  childIds: Set<string>;
  creationTime: Date;
  /** 0: never expires (root tokens only). */
  creationTtlSeconds: number;
  expireTime: Date | undefined;
  lastRenewal: Date | undefined;
  renewable: boolean;
};

export type RoleState = { mount: string; role: VaultDatabaseRole; engine: DatabaseEngine };

export type LeaseEntry = {
  id: string;
  roleState: RoleState;
  username: string;
  tokenId: string;
  tokenAccessor: string;
  issueTime: Date;
  expireTime: Date;
  lastRenewal: Date | undefined;
  revoked: boolean;
  revokedAt: Date | undefined;
  revokedBecause: VaultLeaseRevocationReason | undefined;
  revokeAttempts: number;
  lastRevokeError: string | undefined;
  irrevocable: boolean;
  /** When set, an automatic revocation is due then (token revoked, or a retry after a failure). */
  revokeDueAt: Date | undefined;
  pendingReason: VaultLeaseRevocationReason | undefined;
  inFlight: Promise<void> | undefined;
};

export type KvVersion = {
  version: number;
  data: Record<string, unknown>;
  createdTime: Date;
  deletionTime: Date | undefined;
  destroyed: boolean;
};

export type KvSecret = {
  versions: Map<number, KvVersion>;
  currentVersion: number;
  createdTime: Date;
  updatedTime: Date;
};

export type VaultState = {
  clock: () => Date;
  /** Base of the retry schedule after a failed automatic revocation (2^attempt × this). */
  retryBaseSeconds: number;
  /** The failDatabase() test device: every database engine call fails while set. */
  databaseFailing: boolean;
  policies: Map<string, readonly VaultPolicyRule[]>;
  /** By `<mount>/<role name>`. */
  roles: Map<string, RoleState>;
  databaseMounts: Set<string>;
  kvMount: string;
  tokensById: Map<string, TokenEntry>;
  tokensByAccessor: Map<string, TokenEntry>;
  /** Every lease ever issued, revoked ones included (for the records). */
  leases: LeaseEntry[];
  /** Leases Vault still holds (revoked ones are deleted there). */
  leasesById: Map<string, LeaseEntry>;
  kvSecrets: Map<string, KvSecret>;
  /** Background revocations still running. */
  running: Set<Promise<void>>;
};

export const sanitizePolicies = (policies: Iterable<string>, addDefault: boolean): string[] => {
  const set = new Set([...policies].map((policy) => policy.trim().toLowerCase()).filter((p) => p !== ""));
  if (addDefault && !set.has("root")) set.add("default");
  return [...set].sort();
};

export const secondsBetween = (later: Date, earlier: Date) => (later.getTime() - earlier.getTime()) / 1000;
export const addSeconds = (at: Date, seconds: number) => new Date(at.getTime() + seconds * 1000);
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The empty state for `options`: policies and database roles checked and in place, no tokens yet. */
export function createVaultState(options: VaultSandboxOptions): VaultState {
  const policies = new Map<string, readonly VaultPolicyRule[]>([["default", DEFAULT_POLICY]]);
  for (const [name, rules] of Object.entries(options.policies ?? {})) {
    if (name === "root") throw new Error('The "root" policy is built in and cannot be defined');
    for (const rule of rules) validatePolicyPath(rule.path);
    policies.set(name.toLowerCase(), rules);
  }
  const state: VaultState = {
    clock: options.clock ?? (() => new Date()),
    retryBaseSeconds: options.revocationRetryBaseSeconds ?? 10,
    databaseFailing: false,
    policies,
    roles: new Map(),
    databaseMounts: new Set(),
    kvMount: options.kvMount ?? "secret",
    tokensById: new Map(),
    tokensByAccessor: new Map(),
    leases: [],
    leasesById: new Map(),
    kvSecrets: new Map(),
    running: new Set(),
  };
  for (const role of options.databaseRoles ?? []) {
    const mount = role.mount ?? "database";
    const key = `${mount}/${role.name}`;
    if (state.roles.has(key)) throw new Error(`Duplicate database role ${key}`);
    if (!/^\w(([\w.-]+)?\w)?$/.test(role.name)) throw new Error(`Invalid database role name "${role.name}"`);
    if (role.creationStatements.length === 0) throw new Error(`Role ${role.name}: empty creation statements`);
    if (
      !(role.defaultTtlSeconds > 0 && role.maxTtlSeconds > 0 && role.defaultTtlSeconds <= role.maxTtlSeconds)
    ) {
      throw new Error(`Role ${role.name}: need 0 < defaultTtlSeconds ≤ maxTtlSeconds`);
    }
    state.databaseMounts.add(mount);
    state.roles.set(key, { mount, role, engine: createDatabaseEngine(role, () => state.databaseFailing) });
  }
  if (state.databaseMounts.has(state.kvMount)) {
    throw new Error(`Mount "${state.kvMount}" is both a KV and a database mount`);
  }
  return state;
}

/** Keeps background work in `state.running` until it settles. */
export function track(state: VaultState, work: Promise<void>): void {
  state.running.add(work);
  const done = () => {
    state.running.delete(work);
  };
  work.then(done, done);
}

/** Resolves once no background work is left (work may start more work). */
export async function whenIdle(state: VaultState): Promise<void> {
  while (state.running.size > 0) await Promise.allSettled([...state.running]);
}
