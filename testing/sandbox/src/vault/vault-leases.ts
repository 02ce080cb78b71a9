import type { VaultLeaseRecord, VaultLeaseRevocationReason } from "./vault-sandbox-types.js";
import {
  addSeconds,
  type LeaseEntry,
  messageOf,
  type TokenEntry,
  track,
  type VaultState,
} from "./vault-state.js";
import {
  envelope,
  goDuration,
  multiError,
  randomBase62,
  SYSTEM_MAX_TTL_SECONDS,
  type VaultEnvelope,
  VaultHttpError,
} from "./vault-wire.js";

/**
 * Database leases: issued by `<mount>/creds/<role>` and owned by the token that read them; renewed and
 * revoked through `sys/leases/*`, revoked in the background when they expire or their token goes.
 */

/** Vault tries to revoke an expired lease this many times before marking it irrevocable. */
const MAX_REVOKE_ATTEMPTS = 6;
/** Vault pads the database user's own expiry past the lease's, so the user outlives the lease. */
const DATABASE_EXPIRY_BUFFER_MS = 5000;

export type VaultLeases = ReturnType<typeof createVaultLeases>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it is a closure over the lease list: each inner function is short and documented.
export function createVaultLeases(state: VaultState) {
  const { clock, leases, leasesById } = state;
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
      state,
      runRevocation(lease, reason).catch(() => {
        lease.revokeAttempts += 1;
        if (lease.revokeAttempts >= MAX_REVOKE_ATTEMPTS) {
          lease.irrevocable = true;
          return;
        }
        lease.revokeDueAt = addSeconds(clock(), 2 ** lease.revokeAttempts * state.retryBaseSeconds);
      }),
    );
  }

  /** Starts revoking, in the background, every live lease created by one of these (revoked) tokens. */
  function revokeLeasesOf(tokenIds: ReadonlySet<string>): void {
    for (const lease of leases) {
      if (
        tokenIds.has(lease.tokenId) &&
        isLive(lease) &&
        lease.inFlight === undefined &&
        !lease.irrevocable
      ) {
        revokeInBackground(lease, "token-revoked");
      }
    }
  }

  /** Starts revoking every lease that is due by the clock: expired ones, and retries. */
  function sweepLeases(now: Date): void {
    for (const lease of leases) {
      if (!isLive(lease) || lease.irrevocable || lease.inFlight !== undefined) continue;
      const due = lease.revokeDueAt ?? lease.expireTime;
      if (now.getTime() >= due.getTime()) revokeInBackground(lease, lease.pendingReason ?? "expired");
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

  /** `GET <mount>/creds/<role>`: a new database user, leased to `token` for the role's default TTL. */
  async function issueCredentials(
    mount: string,
    roleName: string,
    token: TokenEntry,
  ): Promise<VaultEnvelope> {
    const roleState = state.roles.get(`${mount}/${roleName}`);
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
    if (!state.tokensById.has(token.id)) revokeInBackground(lease, "token-revoked");
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

  /** `sys/leases/lookup`: the lease's times and TTL, as Vault reports them. */
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

  /** `sys/leases/revoke` (sync): an unknown lease is a no-op, as in Vault; a failure is a 400. */
  async function revokeLease(leaseIdInput: unknown): Promise<void> {
    const lease = heldLease(requireLeaseId(leaseIdInput));
    if (lease === undefined) return;
    try {
      await runRevocation(lease, "revoke");
    } catch {
      throw new VaultHttpError(400, [
        `failed to revoke entry: resp: (*logical.Response)(nil) err: ${lease.lastRevokeError ?? "unknown error"}`,
      ]);
    }
  }

  /** The test device behind `revokeAllLeases()`: revokes every held lease now, or says which failed. */
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

  return {
    revokeLeasesOf,
    sweepLeases,
    issueCredentials,
    renewLease,
    lookupLease,
    revokeLease,
    revokeAllLeases,
    leaseRecords,
  };
}
