import { randomUUID } from "node:crypto";
import type { VaultAppRole } from "./vault-sandbox-types.js";
import { addSeconds } from "./vault-state.js";
import { envelope, multiError, parseDurationSeconds, VAULT_ERRORS, VaultHttpError } from "./vault-wire.js";

/**
 * The AppRole auth method's roles and their secret ids (Vault's API docs, "AppRole auth method (API)":
 * `role/:role_name/secret-id`, `secret-id/lookup`, `secret-id-accessor/lookup|destroy`, `role-id`, and
 * `login`). A secret id has an accessor, an optional TTL and an optional number of uses, both from the
 * role unless the request narrows them. Which token may call which role's paths is the ACL's business
 * (vault-routes.ts): a policy granting `auth/approle/role/<name>/secret-id` is what lets a token mint
 * secret ids for that role only.
 */

type SecretIdEntry = {
  secretId: string;
  accessor: string;
  creationTime: Date;
  /** Undefined: never expires. */
  expireTime: Date | undefined;
  ttlSeconds: number;
  /** 0: unlimited; otherwise the uses left. */
  usesLeft: number;
  numUses: number;
};

type RoleEntry = {
  config: VaultAppRole;
  name: string;
  secretIds: Map<string, SecretIdEntry>;
};

/** Vault's message when a secret id accessor is unknown (a 500 from destroy, a 404 from lookup since 1.9). */
const unknownAccessor = (accessor: string) =>
  `failed to find accessor entry for secret_id_accessor: ${JSON.stringify(accessor)}`;

export type VaultAppRoles = ReturnType<typeof createVaultAppRoles>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a closure over the roles map; each inner function is short.
export function createVaultAppRoles(roles: readonly VaultAppRole[], clock: () => Date) {
  const byName = new Map<string, RoleEntry>();
  for (const config of roles) {
    const name = (config.roleName ?? "sandbox").toLowerCase();
    if (byName.has(name)) throw new Error(`Duplicate AppRole role name "${name}"`);
    const role: RoleEntry = { config, name, secretIds: new Map() };
    byName.set(name, role);
    addSecretId(role, config.secretId, {});
  }

  function addSecretId(role: RoleEntry, secretId: string, body: Record<string, unknown>): SecretIdEntry {
    const roleTtl = role.config.secretIdTtlSeconds ?? 0;
    const roleUses = role.config.secretIdNumUses ?? 0;
    const ttlSeconds = body.ttl === undefined ? roleTtl : parseDurationSeconds(body.ttl, "ttl");
    if ((ttlSeconds === 0 && roleTtl > 0) || (roleTtl > 0 && ttlSeconds > roleTtl)) {
      throw new VaultHttpError(400, ["ttl cannot be longer than the role's secret_id_ttl"]);
    }
    const numUses = body.num_uses === undefined ? roleUses : Number(body.num_uses);
    if (!Number.isInteger(numUses) || numUses < 0)
      throw new VaultHttpError(400, ["num_uses cannot be negative"]);
    if ((numUses === 0 && roleUses > 0) || (roleUses > 0 && numUses > roleUses)) {
      throw new VaultHttpError(400, ["num_uses cannot be higher than the role's secret_id_num_uses"]);
    }
    const now = clock();
    const entry: SecretIdEntry = {
      secretId,
      accessor: randomUUID(),
      creationTime: now,
      expireTime: ttlSeconds > 0 ? addSeconds(now, ttlSeconds) : undefined,
      ttlSeconds,
      usesLeft: numUses,
      numUses,
    };
    role.secretIds.set(secretId, entry);
    return entry;
  }

  /** The role named in the path; Vault answers an unknown one with 404 on secret-id generation. */
  function roleNamed(name: string): RoleEntry {
    const role = byName.get(name.toLowerCase());
    if (role === undefined) throw new VaultHttpError(404, [`role "${name}" does not exist`]);
    return role;
  }

  const isLive = (entry: SecretIdEntry) =>
    entry.expireTime === undefined || clock().getTime() < entry.expireTime.getTime();

  /** The live entry of a secret id, dropping it when it has expired (as Vault's tidy would). */
  function liveSecretId(role: RoleEntry, secretId: unknown): SecretIdEntry | undefined {
    if (typeof secretId !== "string") return undefined;
    const entry = role.secretIds.get(secretId);
    if (entry === undefined) return undefined;
    if (!isLive(entry)) {
      role.secretIds.delete(secretId);
      return undefined;
    }
    return entry;
  }

  const entryByAccessor = (role: RoleEntry, accessor: string) =>
    [...role.secretIds.values()].find((entry) => entry.accessor === accessor);

  const describe = (entry: SecretIdEntry) => ({
    cidr_list: [],
    creation_time: entry.creationTime.toISOString(),
    expiration_time: entry.expireTime?.toISOString() ?? "0001-01-01T00:00:00Z",
    last_updated_time: entry.creationTime.toISOString(),
    metadata: {},
    secret_id_accessor: entry.accessor,
    secret_id_num_uses: entry.numUses,
    secret_id_ttl: entry.ttlSeconds,
    token_bound_cidrs: [],
  });

  const requiredString = (body: Record<string, unknown>, field: string): string => {
    const value = body[field];
    if (typeof value !== "string" || value === "") throw new VaultHttpError(400, [`missing ${field}`]);
    return value;
  };

  return {
    /**
     * `auth/approle/login`: the role whose role id and live secret id match, using up one of the secret
     * id's uses. Anything else is Vault's one refusal, which does not say which half was wrong.
     */
    appRoleFor(body: Record<string, unknown>): VaultAppRole & { roleName: string } {
      const roleId = body.role_id;
      if (typeof roleId !== "string" || roleId === "") throw new VaultHttpError(400, ["missing role_id"]);
      const role = [...byName.values()].find((candidate) => candidate.config.roleId === roleId);
      const entry = role === undefined ? undefined : liveSecretId(role, body.secret_id);
      if (role === undefined || entry === undefined) {
        throw new VaultHttpError(400, [VAULT_ERRORS.invalidAppRole]);
      }
      if (entry.numUses > 0) {
        entry.usesLeft -= 1;
        if (entry.usesLeft === 0) role.secretIds.delete(entry.secretId);
      }
      return { ...role.config, roleName: role.name };
    },

    /** `POST auth/approle/role/:name/secret-id`: a new secret id and its accessor. */
    generate(name: string, body: Record<string, unknown>) {
      const entry = addSecretId(roleNamed(name), randomUUID(), body);
      return envelope({
        data: {
          secret_id: entry.secretId,
          secret_id_accessor: entry.accessor,
          secret_id_ttl: entry.ttlSeconds,
          secret_id_num_uses: entry.numUses,
        },
      });
    },

    /** `POST …/secret-id/lookup`: the secret id's properties (204, no body, when it is unknown). */
    lookupSecretId(name: string, body: Record<string, unknown>) {
      const entry = liveSecretId(roleNamed(name), requiredString(body, "secret_id"));
      return entry === undefined ? undefined : envelope({ data: describe(entry) });
    },

    /** `POST …/secret-id-accessor/lookup`: 404 for an unknown accessor (Vault 1.9 and later). */
    lookupAccessor(name: string, body: Record<string, unknown>) {
      const accessor = requiredString(body, "secret_id_accessor");
      const entry = entryByAccessor(roleNamed(name), accessor);
      if (entry === undefined) throw new VaultHttpError(404, [unknownAccessor(accessor)]);
      return envelope({ data: describe(entry) });
    },

    /**
     * `POST …/secret-id-accessor/destroy`: 204. An unknown (or already destroyed) accessor is an error
     * Vault does not type, so it answers 500.
     */
    destroyByAccessor(name: string, body: Record<string, unknown>): void {
      const accessor = requiredString(body, "secret_id_accessor");
      const role = roleNamed(name);
      const entry = entryByAccessor(role, accessor);
      if (entry === undefined) throw new VaultHttpError(500, [multiError(unknownAccessor(accessor))]);
      role.secretIds.delete(entry.secretId);
    },

    /** `GET auth/approle/role/:name/role-id`. */
    roleId(name: string) {
      return envelope({ data: { role_id: roleNamed(name).config.roleId } });
    },

    /** Test view: the accessors of a role's live secret ids. */
    liveAccessors(name: string): string[] {
      const role = byName.get(name.toLowerCase());
      if (role === undefined) return [];
      return [...role.secretIds.values()].filter(isLive).map((entry) => entry.accessor);
    },
  };
}
