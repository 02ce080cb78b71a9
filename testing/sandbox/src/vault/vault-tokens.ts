import { buildAcl, type VaultAcl } from "./vault-acl.js";
import type { VaultAppRoles } from "./vault-approle.js";
import type { VaultLeases } from "./vault-leases.js";
import type { VaultSandboxOptions } from "./vault-sandbox-types.js";
import {
  addSeconds,
  sanitizePolicies,
  secondsBetween,
  type TokenEntry,
  type VaultState,
} from "./vault-state.js";
import {
  envelope,
  goDuration,
  parseDurationSeconds,
  randomBase62,
  SYSTEM_MAX_TTL_SECONDS,
  VaultHttpError,
} from "./vault-wire.js";

/**
 * The token tree: the root token and configured tokens, `auth/token/*` and AppRole login. A revoked token
 * takes its descendants (not orphans) with it, and their database leases in the background.
 */

export type VaultTokens = ReturnType<typeof createVaultTokens>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it is a closure over the token maps: each inner function is short and documented.
export function createVaultTokens(
  state: VaultState,
  leases: Pick<VaultLeases, "revokeLeasesOf">,
  options: Pick<VaultSandboxOptions, "rootToken" | "tokens">,
  appRoles: Pick<VaultAppRoles, "appRoleFor">,
) {
  const { clock, tokensById, tokensByAccessor } = state;

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

  const aclOf = (token: TokenEntry): VaultAcl => buildAcl(token.policies, state.policies);

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
    for (const entry of doomed) {
      tokensById.delete(entry.id);
      tokensByAccessor.delete(entry.accessor);
      if (entry.parentId !== undefined) tokensById.get(entry.parentId)?.childIds.delete(entry.id);
    }
    leases.revokeLeasesOf(new Set(doomed.map((entry) => entry.id)));
  }

  /** Revokes every token (with its tree) that is past its TTL by the clock. */
  function sweepTokens(now: Date): void {
    for (const token of [...tokensById.values()]) {
      if (tokensById.has(token.id) && isExpired(token, now)) revokeTokenTree(token);
    }
  }

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
    const finalPolicies = childPolicies(parent, body, sudo);
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
      if (policy !== "root" && !state.policies.has(policy))
        warnings.push(`Policy "${policy}" does not exist`);
    }
    return envelope({ auth: authBlock(token), warnings });
  }

  /** `auth/token/renew-self`: a new TTL (the increment, or the creation TTL), capped at the system max. */
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

  /**
   * `auth/approle/login`: an orphan token with the role's policies, for a matching role id and live
   * secret id. Vault puts the role's name in the token's metadata (`role_name`), which is how a token
   * learns which role it logged in as (`auth/token/lookup-self`).
   */
  function appRoleLogin(body: Record<string, unknown>) {
    const role = appRoles.appRoleFor(body);
    const token = addToken({
      policies: sanitizePolicies(role.policies, true),
      displayName: "approle",
      meta: { role_name: role.roleName },
      path: "auth/approle/login",
      parent: undefined,
      ttlSeconds: role.tokenTtlSeconds ?? SYSTEM_MAX_TTL_SECONDS,
      renewable: true,
    });
    return envelope({ auth: authBlock(token) });
  }

  return {
    rootToken,
    liveToken,
    /** The accessor of a known token, without expiring anything (for request records). */
    accessorOf: (id: string | undefined) => (id === undefined ? undefined : tokensById.get(id)?.accessor),
    tokenByAccessor: (accessor: string) => {
      const token = tokensByAccessor.get(accessor);
      return token === undefined ? undefined : liveToken(token.id);
    },
    /** Every live token's accessor (`LIST auth/token/accessors`); expired tokens are revoked first. */
    tokenAccessors: (): string[] => {
      sweepTokens(clock());
      return [...tokensByAccessor.keys()].sort();
    },
    aclOf,
    tokenData,
    createChildToken,
    renewToken,
    revokeTokenTree,
    appRoleLogin,
    sweepTokens,
  };
}

/**
 * A child token's policies: the parent's when none are asked for; without sudo only a subset of the
 * parent's (plus default if the parent has it); root only under a root parent.
 */
function childPolicies(parent: TokenEntry, body: Record<string, unknown>, sudo: boolean): string[] {
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
  if (finalPolicies.includes("root") && !parent.policies.includes("root")) {
    throw new VaultHttpError(400, ["root tokens may not be created without parent token being root"]);
  }
  return finalPolicies;
}

function isRecordOfStrings(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === "string")
  );
}
