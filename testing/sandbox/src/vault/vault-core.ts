import { buildAcl, DEFAULT_POLICY, type VaultAcl, validatePolicyPath } from "./vault-acl.js";
import { createDatabaseEngine, type DatabaseEngine } from "./vault-database-engine.js";
import type {
  VaultAppRole,
  VaultDatabaseRole,
  VaultKvVersionRecord,
  VaultLeaseRecord,
  VaultLeaseRevocationReason,
  VaultPolicyRule,
  VaultSandboxOptions,
} from "./vault-sandbox-types.js";
import {
  envelope,
  goDuration,
  multiError,
  parseDurationSeconds,
  randomBase62,
  SYSTEM_MAX_TTL_SECONDS,
  VAULT_ERRORS,
  type VaultEnvelope,
  VaultHttpError,
} from "./vault-wire.js";

/**
 * The stand-in's memory and the rules Vault applies to it: the token tree, database leases (owned by the
 * token that created them), KV v2 secrets and response-wrapping tokens. HTTP lives in vault-routes.ts.
 *
 * Time: everything reads `clock()`. Expiry runs from `sweep()`, which the server calls on a 100 ms timer
 * and before every request, so a lease is revoked within ~0.1 s of its deadline without any client call,
 * and a test clock moved forward takes effect on the next tick.
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

type RoleState = { mount: string; role: VaultDatabaseRole; engine: DatabaseEngine };

type LeaseEntry = {
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

type KvVersion = {
  version: number;
  data: Record<string, unknown>;
  createdTime: Date;
  deletionTime: Date | undefined;
  destroyed: boolean;
};
type KvSecret = {
  versions: Map<number, KvVersion>;
  currentVersion: number;
  createdTime: Date;
  updatedTime: Date;
};

/** A response-wrapping token and the response it holds (the exact body the request would have had). */
type WrapEntry = {
  token: string;
  accessor: string;
  body: string;
  creationTime: Date;
  ttlSeconds: number;
  creationPath: string;
};

/** KV v2 keeps this many versions per secret unless configured otherwise (Vault's default). */
export const KV_MAX_VERSIONS = 10;
/** Vault tries to revoke an expired lease this many times before marking it irrevocable. */
const MAX_REVOKE_ATTEMPTS = 6;
/** Vault pads the database user's own expiry past the lease's, so the user outlives the lease. */
const DATABASE_EXPIRY_BUFFER_MS = 5000;

const sanitizePolicies = (policies: Iterable<string>, addDefault: boolean): string[] => {
  const set = new Set([...policies].map((policy) => policy.trim().toLowerCase()).filter((p) => p !== ""));
  if (addDefault && !set.has("root")) set.add("default");
  return [...set].sort();
};

const secondsBetween = (later: Date, earlier: Date) => (later.getTime() - earlier.getTime()) / 1000;
const addSeconds = (at: Date, seconds: number) => new Date(at.getTime() + seconds * 1000);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createVaultCore(options: VaultSandboxOptions) {
  const clock = options.clock ?? (() => new Date());
  const retryBaseSeconds = options.revocationRetryBaseSeconds ?? 10;
  let databaseFailing = false;

  // --- policies -----------------------------------------------------------------------------------------
  const policies = new Map<string, readonly VaultPolicyRule[]>([["default", DEFAULT_POLICY]]);
  for (const [name, rules] of Object.entries(options.policies ?? {})) {
    if (name === "root") throw new Error('The "root" policy is built in and cannot be defined');
    for (const rule of rules) validatePolicyPath(rule.path);
    policies.set(name.toLowerCase(), rules);
  }

  // --- database roles -----------------------------------------------------------------------------------
  const roles = new Map<string, RoleState>();
  const databaseMounts = new Set<string>();
  for (const role of options.databaseRoles ?? []) {
    const mount = role.mount ?? "database";
    if (roles.has(`${mount}/${role.name}`)) throw new Error(`Duplicate database role ${mount}/${role.name}`);
    if (!/^\w(([\w.-]+)?\w)?$/.test(role.name)) throw new Error(`Invalid database role name "${role.name}"`);
    if (role.creationStatements.length === 0) throw new Error(`Role ${role.name}: empty creation statements`);
    if (
      !(role.defaultTtlSeconds > 0 && role.maxTtlSeconds > 0 && role.defaultTtlSeconds <= role.maxTtlSeconds)
    ) {
      throw new Error(`Role ${role.name}: need 0 < defaultTtlSeconds ≤ maxTtlSeconds`);
    }
    databaseMounts.add(mount);
    roles.set(`${mount}/${role.name}`, {
      mount,
      role,
      engine: createDatabaseEngine(role, () => databaseFailing),
    });
  }
  const kvMount = options.kvMount ?? "secret";
  if (databaseMounts.has(kvMount)) throw new Error(`Mount "${kvMount}" is both a KV and a database mount`);

  // --- tokens -------------------------------------------------------------------------------------------
  const tokensById = new Map<string, TokenEntry>();
  const tokensByAccessor = new Map<string, TokenEntry>();

  function addToken(input: {
    id?: string;
    policies: string[];
    displayName: string;
    meta: Record<string, string> | null;
    path: string;
    parent: TokenEntry | undefined;
    ttlSeconds: number;
    renewable: boolean;
  }): TokenEntry {
    const now = clock();
    const id = input.id ?? `sandbox-token.${randomBase62(24)}`;
    if (tokensById.has(id)) throw new VaultHttpError(400, ["cannot create a token with a duplicate ID"]);
    const entry: TokenEntry = {
      id,
      accessor: randomBase62(24),
      policies: input.policies,
      displayName: input.displayName,
      meta: input.meta,
      path: input.path,
      parentId: input.parent?.id,
      childIds: new Set(),
      creationTime: now,
      creationTtlSeconds: input.ttlSeconds,
      expireTime: input.ttlSeconds > 0 ? addSeconds(now, input.ttlSeconds) : undefined,
      lastRenewal: undefined,
      renewable: input.ttlSeconds > 0 && input.renewable,
    };
    input.parent?.childIds.add(id);
    tokensById.set(id, entry);
    tokensByAccessor.set(entry.accessor, entry);
    return entry;
  }

  const rootToken = addToken({
    id: options.rootToken ?? `sandbox-root-${randomBase62(24)}`,
    policies: ["root"],
    displayName: "root",
    meta: null,
    path: "auth/token/root",
    parent: undefined,
    ttlSeconds: 0,
    renewable: false,
  });
  for (const token of options.tokens ?? []) {
    const isRoot = token.policies.includes("root");
    addToken({
      id: token.token,
      policies: sanitizePolicies(token.policies, !isRoot && token.noDefaultPolicy !== true),
      displayName: token.displayName ?? "token",
      meta: null,
      path: "auth/token/create",
      parent: undefined,
      ttlSeconds: token.ttlSeconds ?? (isRoot ? 0 : SYSTEM_MAX_TTL_SECONDS),
      renewable: token.renewable ?? true,
    });
  }
  const approles: readonly VaultAppRole[] = options.approle ?? [];

  const isExpired = (token: TokenEntry, now: Date) =>
    token.expireTime !== undefined && now.getTime() >= token.expireTime.getTime();

  /** The token if it exists and has not expired; expired tokens are revoked on the way. */
  function liveToken(id: string | undefined): TokenEntry | undefined {
    if (id === undefined || id === "") return undefined;
    const token = tokensById.get(id);
    if (token === undefined) return undefined;
    if (isExpired(token, clock())) {
      revokeTokenTree(token);
      return undefined;
    }
    return token;
  }

  const aclOf = (token: TokenEntry): VaultAcl => buildAcl(token.policies, policies);

  // --- background work ----------------------------------------------------------------------------------
  const running = new Set<Promise<void>>();
  function track(work: Promise<void>): void {
    running.add(work);
    const done = () => {
      running.delete(work);
    };
    work.then(done, done);
  }
  async function whenIdle(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running]);
  }

  // --- leases -------------------------------------------------------------------------------------------
  const leases: LeaseEntry[] = [];
  const leasesById = new Map<string, LeaseEntry>();

  const isLive = (lease: LeaseEntry) => !lease.revoked;

  /**
   * Runs the revocation statements for a lease once, serialised with any revocation already running.
   * Resolves when revoked (or already revoked); throws the database's error otherwise.
   */
  async function runRevocation(lease: LeaseEntry, reason: VaultLeaseRevocationReason): Promise<void> {
    while (lease.inFlight !== undefined) await lease.inFlight.catch(() => undefined);
    if (lease.revoked) return;
    const attempt = lease.roleState.engine.revokeUser(lease.username);
    lease.inFlight = attempt;
    try {
      await attempt;
      lease.revoked = true;
      lease.revokedAt = clock();
      lease.revokedBecause = reason;
      lease.revokeDueAt = undefined;
      leasesById.delete(lease.id);
    } catch (error) {
      lease.lastRevokeError = messageOf(error);
      throw error;
    } finally {
      lease.inFlight = undefined;
    }
  }

  /**
   * Revocation in the background (expiry, token revocation), with Vault's retry schedule on failure.
   * Like Vault's lazy revocation, the lease counts as expired from now on: it can no longer be renewed.
   */
  function revokeInBackground(lease: LeaseEntry, reason: VaultLeaseRevocationReason): void {
    const now = clock();
    if (lease.expireTime.getTime() > now.getTime()) lease.expireTime = now;
    lease.pendingReason = reason;
    lease.revokeDueAt = undefined;
    track(
      runRevocation(lease, reason).catch(() => {
        lease.revokeAttempts += 1;
        if (lease.revokeAttempts >= MAX_REVOKE_ATTEMPTS) {
          lease.irrevocable = true;
          return;
        }
        lease.revokeDueAt = addSeconds(clock(), 2 ** lease.revokeAttempts * retryBaseSeconds);
      }),
    );
  }

  /** Revokes a token, its descendants (not orphans) and, in the background, every lease they created. */
  function revokeTokenTree(token: TokenEntry): void {
    const doomed: TokenEntry[] = [];
    const visit = (entry: TokenEntry) => {
      doomed.push(entry);
      for (const childId of entry.childIds) {
        const child = tokensById.get(childId);
        if (child !== undefined) visit(child);
      }
    };
    visit(token);
    const ids = new Set(doomed.map((entry) => entry.id));
    for (const entry of doomed) {
      tokensById.delete(entry.id);
      tokensByAccessor.delete(entry.accessor);
      if (entry.parentId !== undefined) tokensById.get(entry.parentId)?.childIds.delete(entry.id);
    }
    for (const lease of leases) {
      if (ids.has(lease.tokenId) && isLive(lease) && lease.inFlight === undefined && !lease.irrevocable) {
        revokeInBackground(lease, "token-revoked");
      }
    }
  }

  /** Expires what is due by the clock: tokens (and their trees), leases, retries, wrapping tokens. */
  function sweep(): void {
    const now = clock();
    for (const token of [...tokensById.values()]) {
      if (tokensById.has(token.id) && isExpired(token, now)) revokeTokenTree(token);
    }
    for (const lease of leases) {
      if (!isLive(lease) || lease.irrevocable || lease.inFlight !== undefined) continue;
      const due = lease.revokeDueAt ?? lease.expireTime;
      if (now.getTime() >= due.getTime()) revokeInBackground(lease, lease.pendingReason ?? "expired");
    }
    for (const [token, wrap] of wraps) {
      if (now.getTime() >= addSeconds(wrap.creationTime, wrap.ttlSeconds).getTime()) wraps.delete(token);
    }
  }

  /** A lease Vault still holds (revoked ones are deleted there). */
  function heldLease(leaseId: unknown): LeaseEntry | undefined {
    return typeof leaseId === "string" ? leasesById.get(leaseId) : undefined;
  }

  function requireLeaseId(leaseId: unknown): string {
    if (typeof leaseId !== "string" || leaseId === "") {
      throw new VaultHttpError(400, ["lease_id must be specified"]);
    }
    return leaseId;
  }

  async function issueCredentials(
    mount: string,
    roleName: string,
    token: TokenEntry,
  ): Promise<VaultEnvelope> {
    const roleState = roles.get(`${mount}/${roleName}`);
    if (roleState === undefined) throw new VaultHttpError(400, [`unknown role: ${roleName}`]);
    const { role, engine } = roleState;
    const now = clock();
    const ttlSeconds = Math.min(role.defaultTtlSeconds, role.maxTtlSeconds, SYSTEM_MAX_TTL_SECONDS);
    let created: { username: string; password: string };
    try {
      created = await engine.createUser({
        displayName: token.displayName,
        now,
        expiration: new Date(now.getTime() + ttlSeconds * 1000 + DATABASE_EXPIRY_BUFFER_MS),
      });
    } catch (error) {
      throw new VaultHttpError(500, [multiError(messageOf(error))]);
    }
    const lease: LeaseEntry = {
      id: `${mount}/creds/${roleName}/${randomBase62(24)}`,
      roleState,
      username: created.username,
      tokenId: token.id,
      tokenAccessor: token.accessor,
      issueTime: now,
      expireTime: addSeconds(now, ttlSeconds),
      lastRenewal: undefined,
      revoked: false,
      revokedAt: undefined,
      revokedBecause: undefined,
      revokeAttempts: 0,
      lastRevokeError: undefined,
      irrevocable: false,
      revokeDueAt: undefined,
      pendingReason: undefined,
      inFlight: undefined,
    };
    leases.push(lease);
    leasesById.set(lease.id, lease);
    // The token may have been revoked while the database worked; its leases go with it, as in Vault.
    if (!tokensById.has(token.id)) revokeInBackground(lease, "token-revoked");
    return envelope({
      lease_id: lease.id,
      renewable: true,
      lease_duration: ttlSeconds,
      data: { username: created.username, password: created.password },
    });
  }

  /**
   * `sys/leases/renew`: the new TTL is the increment (or the role's default TTL), capped so the lease
   * ends no later than issue time + the role's max TTL (Vault truncates both to whole seconds).
   * Not capped by the token's TTL: Vault does that only for batch tokens; a service token's leases are
   * revoked when the token goes instead.
   */
  async function renewLease(leaseIdInput: unknown, incrementInput: unknown): Promise<VaultEnvelope> {
    const leaseId = requireLeaseId(leaseIdInput);
    const lease = heldLease(leaseId);
    if (lease === undefined) throw new VaultHttpError(400, ["lease not found"]);
    if (lease.irrevocable) {
      throw new VaultHttpError(400, ["lease is expired and has failed previous revocation attempts"]);
    }
    const now = clock();
    if (now.getTime() >= lease.expireTime.getTime()) throw new VaultHttpError(400, ["lease expired"]);
    const { role, engine } = lease.roleState;
    const increment =
      typeof incrementInput === "number" ? Math.floor(incrementInput) : Number(incrementInput ?? 0);
    if (!Number.isFinite(increment) || increment < 0) {
      throw new VaultHttpError(400, ["increment must be a non-negative number of seconds"]);
    }
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const maxValidSeconds =
      Math.floor(lease.issueTime.getTime() / 1000) +
      Math.min(role.maxTtlSeconds, SYSTEM_MAX_TTL_SECONDS) -
      nowSeconds;
    const failedRenew = (message: string) =>
      new VaultHttpError(400, [`failed to renew entry: resp: (*logical.Response)(nil) err: ${message}`]);
    if (maxValidSeconds <= 0) throw failedRenew("past the max TTL, cannot renew");
    let ttlSeconds = increment > 0 ? increment : role.defaultTtlSeconds;
    const warnings: string[] = [];
    if (ttlSeconds > maxValidSeconds) {
      warnings.push(
        `TTL of "${goDuration(ttlSeconds)}" exceeded the effective max_ttl of "${goDuration(maxValidSeconds)}"; TTL value is capped accordingly`,
      );
      ttlSeconds = maxValidSeconds;
    }
    try {
      await engine.renewUser(
        lease.username,
        new Date(now.getTime() + ttlSeconds * 1000 + DATABASE_EXPIRY_BUFFER_MS),
      );
    } catch (error) {
      throw failedRenew(messageOf(error));
    }
    if (lease.revoked) throw new VaultHttpError(400, ["lease not found"]);
    lease.expireTime = addSeconds(now, ttlSeconds);
    lease.lastRenewal = now;
    return envelope({ lease_id: lease.id, renewable: true, lease_duration: ttlSeconds, warnings });
  }

  function lookupLease(leaseIdInput: unknown): VaultEnvelope {
    const lease = heldLease(requireLeaseId(leaseIdInput));
    if (lease === undefined) throw new VaultHttpError(400, ["invalid lease"]);
    const now = clock();
    // Vault: int64(ExpireTime.Sub(now.Round(time.Second)).Seconds()), truncated toward zero.
    const roundedNow = Math.round(now.getTime() / 1000) * 1000;
    return envelope({
      data: {
        id: lease.id,
        issue_time: lease.issueTime.toISOString(),
        expire_time: lease.expireTime.toISOString(),
        last_renewal: lease.lastRenewal?.toISOString() ?? null,
        renewable: !lease.irrevocable && now.getTime() < lease.expireTime.getTime(),
        ttl: Math.trunc((lease.expireTime.getTime() - roundedNow) / 1000),
      },
    });
  }

  const failedRevoke = (lease: LeaseEntry) =>
    `failed to revoke entry: resp: (*logical.Response)(nil) err: ${lease.lastRevokeError ?? "unknown error"}`;

  /** `sys/leases/revoke` (sync): an unknown lease is a no-op, as in Vault; a failure is a 400. */
  async function revokeLease(leaseIdInput: unknown): Promise<void> {
    const lease = heldLease(requireLeaseId(leaseIdInput));
    if (lease === undefined) return;
    try {
      await runRevocation(lease, "revoke");
    } catch {
      throw new VaultHttpError(400, [failedRevoke(lease)]);
    }
  }

  /** `sys/leases/revoke-prefix/<prefix>`: one lease by exact id, or every lease under `<prefix>/`. */
  async function revokePrefix(prefixInput: string): Promise<void> {
    const exact = leasesById.get(prefixInput);
    const prefix = prefixInput.endsWith("/") || prefixInput === "" ? prefixInput : `${prefixInput}/`;
    const targets =
      exact !== undefined ? [exact] : [...leasesById.values()].filter((lease) => lease.id.startsWith(prefix));
    for (const [index, lease] of targets.entries()) {
      try {
        await runRevocation(lease, "revoke-prefix");
      } catch {
        throw new VaultHttpError(400, [
          `failed to revoke "${lease.id}" (${index + 1} / ${targets.length}): ${failedRevoke(lease)}`,
        ]);
      }
    }
  }

  /** `LIST sys/leases/lookup/<prefix>`: the next path element of every lease under the prefix. */
  function listLeases(prefixInput: string): string[] {
    const prefix = prefixInput === "" || prefixInput.endsWith("/") ? prefixInput : `${prefixInput}/`;
    const keys = new Set<string>();
    for (const lease of leasesById.values()) {
      if (!lease.id.startsWith(prefix)) continue;
      const rest = lease.id.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].sort();
  }

  async function revokeAllLeases(): Promise<void> {
    const failures: string[] = [];
    for (const lease of [...leasesById.values()]) {
      try {
        await runRevocation(lease, "revoke");
      } catch (error) {
        failures.push(`${lease.id}: ${messageOf(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`Could not revoke every lease:\n${failures.join("\n")}`);
  }

  const leaseRecords = (): VaultLeaseRecord[] =>
    leases.map((lease) => ({
      id: lease.id,
      mount: lease.roleState.mount,
      role: lease.roleState.role.name,
      engine: lease.roleState.role.engine,
      username: lease.username,
      tokenAccessor: lease.tokenAccessor,
      issueTime: lease.issueTime,
      expireTime: lease.expireTime,
      ...(lease.lastRenewal === undefined ? {} : { lastRenewal: lease.lastRenewal }),
      revoked: lease.revoked,
      ...(lease.revokedAt === undefined ? {} : { revokedAt: lease.revokedAt }),
      ...(lease.revokedBecause === undefined ? {} : { revokedBecause: lease.revokedBecause }),
      revokeAttempts: lease.revokeAttempts,
      ...(lease.lastRevokeError === undefined ? {} : { lastRevokeError: lease.lastRevokeError }),
      irrevocable: lease.irrevocable,
    }));

  // --- KV version 2 -------------------------------------------------------------------------------------
  let kvSecrets = new Map<string, KvSecret>();

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

  // --- response wrapping --------------------------------------------------------------------------------
  let wraps = new Map<string, WrapEntry>();

  function wrap(body: string, ttlSeconds: number, creationPath: string, wrappedAccessor: string | undefined) {
    const entry: WrapEntry = {
      token: `sandbox-wrap.${randomBase62(24)}`,
      accessor: randomBase62(24),
      body,
      creationTime: clock(),
      ttlSeconds,
      creationPath,
    };
    wraps.set(entry.token, entry);
    return envelope({
      wrap_info: {
        token: entry.token,
        accessor: entry.accessor,
        ttl: ttlSeconds,
        creation_time: entry.creationTime.toISOString(),
        creation_path: creationPath,
        ...(wrappedAccessor === undefined ? {} : { wrapped_accessor: wrappedAccessor }),
      },
    });
  }

  /** The wrapping token if it is still valid (unused and within its TTL). */
  function liveWrap(token: string | undefined): WrapEntry | undefined {
    if (token === undefined) return undefined;
    const entry = wraps.get(token);
    if (entry === undefined) return undefined;
    if (clock().getTime() >= addSeconds(entry.creationTime, entry.ttlSeconds).getTime()) {
      wraps.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Single use: the stored response, and the wrapping token is gone. */
  function unwrap(entry: WrapEntry): string {
    wraps.delete(entry.token);
    return entry.body;
  }

  // --- tokens: API operations ---------------------------------------------------------------------------
  function tokenData(token: TokenEntry, includeId: boolean) {
    const now = clock();
    const ttl =
      token.expireTime === undefined ? 0 : Math.max(0, Math.trunc(secondsBetween(token.expireTime, now)));
    return {
      accessor: token.accessor,
      creation_time: Math.floor(token.creationTime.getTime() / 1000),
      creation_ttl: token.creationTtlSeconds,
      display_name: token.displayName,
      entity_id: "",
      expire_time: token.expireTime?.toISOString() ?? null,
      explicit_max_ttl: 0,
      ...(includeId ? { id: token.id } : {}),
      issue_time: token.creationTime.toISOString(),
      ...(token.lastRenewal === undefined
        ? {}
        : {
            last_renewal: token.lastRenewal.toISOString(),
            last_renewal_time: Math.floor(token.lastRenewal.getTime() / 1000),
          }),
      meta: token.meta,
      num_uses: 0,
      orphan: token.parentId === undefined,
      path: token.path,
      policies: token.policies,
      renewable: token.renewable,
      ttl,
      type: "service",
    };
  }

  const authBlock = (token: TokenEntry) => ({
    client_token: token.id,
    accessor: token.accessor,
    policies: token.policies,
    token_policies: token.policies,
    metadata: token.meta,
    lease_duration: token.creationTtlSeconds,
    renewable: token.renewable,
    entity_id: "",
    token_type: "service",
    orphan: token.parentId === undefined,
    mfa_requirement: null,
    num_uses: 0,
  });

  /** `auth/token/create` with Vault's rules for policies, orphans, TTLs and display names. */
  function createChildToken(parent: TokenEntry, body: Record<string, unknown>, sudo: boolean) {
    const parentIsRoot = parent.policies.includes("root");
    const requested = Array.isArray(body.policies)
      ? body.policies.filter((policy): policy is string => typeof policy === "string")
      : typeof body.policies === "string"
        ? body.policies.split(",")
        : [];
    const noDefault = body.no_default_policy === true;
    let chosen: string[];
    let addDefault = false;
    if (requested.length === 0) {
      chosen = sanitizePolicies(parent.policies, false);
    } else if (!sudo) {
      const wanted = sanitizePolicies(requested, false).filter((policy) => policy !== "default");
      const held = new Set(parent.policies);
      if (!wanted.every((policy) => held.has(policy))) {
        throw new VaultHttpError(400, ["child policies must be subset of parent"]);
      }
      chosen = sanitizePolicies(requested, false);
      addDefault = !noDefault && held.has("default");
    } else {
      chosen = sanitizePolicies(requested, false);
      addDefault = !noDefault;
    }
    let finalPolicies = sanitizePolicies(chosen, addDefault);
    if (noDefault) finalPolicies = finalPolicies.filter((policy) => policy !== "default");
    if (finalPolicies.includes("root") && !parentIsRoot) {
      throw new VaultHttpError(400, ["root tokens may not be created without parent token being root"]);
    }
    if (body.no_parent === true && !sudo) {
      throw new VaultHttpError(400, ["root or sudo privileges required to create orphan token"]);
    }
    if (typeof body.id === "string" && body.id !== "" && !sudo) {
      throw new VaultHttpError(400, ["root or sudo privileges required to specify token id"]);
    }
    const warnings: string[] = [];
    let ttlSeconds = body.ttl === undefined || body.ttl === "" ? 0 : parseDurationSeconds(body.ttl, "ttl");
    if (ttlSeconds < 0) throw new VaultHttpError(400, ["ttl must be positive"]);
    const isRoot = finalPolicies.includes("root");
    if (ttlSeconds > 0 || !isRoot) {
      if (ttlSeconds === 0) ttlSeconds = SYSTEM_MAX_TTL_SECONDS;
      if (ttlSeconds > SYSTEM_MAX_TTL_SECONDS) {
        warnings.push(
          `TTL of "${goDuration(ttlSeconds)}" exceeded the effective max_ttl of "${goDuration(SYSTEM_MAX_TTL_SECONDS)}"; TTL value is capped accordingly`,
        );
        ttlSeconds = SYSTEM_MAX_TTL_SECONDS;
      }
    } else if (parent.expireTime !== undefined) {
      throw new VaultHttpError(400, ["expiring root tokens cannot create non-expiring root tokens"]);
    }
    const displayName =
      typeof body.display_name === "string" && body.display_name !== ""
        ? `token-${body.display_name}`.replace(/[^a-zA-Z0-9-]/g, "-").replace(/-$/, "")
        : "token";
    const meta = isRecordOfStrings(body.meta) ? body.meta : null;
    const token = addToken({
      ...(typeof body.id === "string" && body.id !== "" ? { id: body.id } : {}),
      policies: finalPolicies,
      displayName,
      meta,
      path: "auth/token/create",
      parent: body.no_parent === true ? undefined : parent,
      ttlSeconds,
      renewable: body.renewable !== false,
    });
    for (const policy of finalPolicies) {
      if (policy !== "root" && !policies.has(policy)) warnings.push(`Policy "${policy}" does not exist`);
    }
    return envelope({ auth: authBlock(token), warnings });
  }

  function renewToken(token: TokenEntry, incrementInput: unknown) {
    if (!token.renewable || token.expireTime === undefined) {
      throw new VaultHttpError(400, ["lease is not renewable"]);
    }
    const now = clock();
    const increment = incrementInput === undefined ? 0 : parseDurationSeconds(incrementInput, "increment");
    const maxValid =
      Math.floor(token.creationTime.getTime() / 1000) +
      SYSTEM_MAX_TTL_SECONDS -
      Math.floor(now.getTime() / 1000);
    if (maxValid <= 0) throw new VaultHttpError(400, ["past the max TTL, cannot renew"]);
    const warnings: string[] = [];
    let ttl = increment > 0 ? increment : token.creationTtlSeconds;
    if (ttl > maxValid) {
      warnings.push(
        `TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(maxValid)}"; TTL value is capped accordingly`,
      );
      ttl = maxValid;
    }
    token.expireTime = addSeconds(now, ttl);
    token.lastRenewal = now;
    return envelope({ auth: { ...authBlock(token), lease_duration: ttl }, warnings });
  }

  function appRoleLogin(body: Record<string, unknown>) {
    const roleId = body.role_id;
    if (typeof roleId !== "string" || roleId === "") throw new VaultHttpError(400, ["missing role_id"]);
    const role = approles.find(
      (candidate) => candidate.roleId === roleId && candidate.secretId === body.secret_id,
    );
    if (role === undefined) throw new VaultHttpError(400, [VAULT_ERRORS.invalidAppRole]);
    const token = addToken({
      policies: sanitizePolicies(role.policies, true),
      displayName: "approle",
      meta: { role_name: role.roleName ?? "sandbox" },
      path: "auth/approle/login",
      parent: undefined,
      ttlSeconds: role.tokenTtlSeconds ?? SYSTEM_MAX_TTL_SECONDS,
      renewable: true,
    });
    return envelope({ auth: authBlock(token) });
  }

  // --- lifecycle ----------------------------------------------------------------------------------------
  function resetData(): void {
    kvSecrets = new Map();
    wraps = new Map();
    databaseFailing = false;
  }

  async function close(): Promise<void> {
    await whenIdle();
    await Promise.all([...roles.values()].map((state) => state.engine.close()));
  }

  return {
    clock,
    rootToken,
    kvMount,
    databaseMounts,
    setDatabaseFailing: (failing: boolean) => {
      databaseFailing = failing;
    },
    // tokens
    liveToken,
    /** The accessor of a known token, without expiring anything (for request records). */
    accessorOf: (id: string | undefined) => (id === undefined ? undefined : tokensById.get(id)?.accessor),
    tokenByAccessor: (accessor: string) => {
      const token = tokensByAccessor.get(accessor);
      return token === undefined ? undefined : liveToken(token.id);
    },
    aclOf,
    tokenData,
    createChildToken,
    renewToken,
    revokeTokenTree,
    appRoleLogin,
    // leases
    issueCredentials,
    renewLease,
    lookupLease,
    revokeLease,
    revokePrefix,
    listLeases,
    revokeAllLeases,
    leaseRecords,
    // kv
    kvRead,
    kvExists,
    kvWrite,
    kvDelete,
    kvMetadata,
    kvList,
    kvRecords,
    // wrapping
    wrap,
    liveWrap,
    unwrap,
    // time and lifecycle
    sweep,
    whenIdle,
    resetData,
    close,
  };
}

export type VaultCore = ReturnType<typeof createVaultCore>;

function isRecordOfStrings(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === "string")
  );
}
