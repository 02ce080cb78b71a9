import { UpstreamError } from "@leasehold/domain";
import { isLoginRefusal, vaultClientFor } from "./vault-client.js";
import { toVaultError, vaultStatus } from "./vault-errors.js";
import type { VaultSession } from "./vault-provider.js";

/**
 * Leasehold's own AppRole secret id, as Vault's AppRole API serves it (developer.hashicorp.com
 * /vault/api-docs/auth/approle): `POST auth/approle/role/:role_name/secret-id` mints one with its
 * accessor, `POST …/secret-id/lookup` finds the accessor of a secret id, `POST
 * …/secret-id-accessor/destroy` destroys one by accessor. Leasehold's token needs `update` on those
 * three paths of its own role and nothing of any other role. The role's name is what Vault put in
 * the token's metadata at login (`role_name`, read with `auth/token/lookup-self`), unless configured.
 */
export type VaultAppRolePort = {
  /** The AppRole role Leasehold logs in as. */
  roleName(): Promise<string>;
  mint(roleName: string): Promise<{ readonly secretId: string; readonly accessor: string }>;
  /** The accessor of a secret id of the role; undefined when Vault does not know it (destroyed, expired). */
  accessorOf(roleName: string, secretId: string): Promise<string | undefined>;
  /** Logs in with the secret id, then revokes the token it got. Refused: a non-retryable UpstreamError. */
  test(secretId: string): Promise<void>;
  /** Destroys a secret id by its accessor; one Vault no longer knows counts as destroyed. */
  destroy(roleName: string, accessor: string): Promise<void>;
};

/** Vault's message for an accessor it does not know (500 before Vault 1.9 and from destroy, 404 from lookup). */
const UNKNOWN_ACCESSOR = "failed to find accessor entry for secret_id_accessor";

const errorsOf = (error: unknown): string => {
  const body = (error as { response?: { body?: { errors?: unknown } } })?.response?.body;
  return Array.isArray(body?.errors) ? body.errors.join(" ") : "";
};

const rolePath = (roleName: string, rest: string) =>
  `auth/approle/role/${encodeURIComponent(roleName)}/${rest}`;

export function vaultAppRole(
  session: VaultSession,
  settings: {
    address: string;
    namespace?: string | undefined;
    roleId: string;
    roleName?: string | undefined;
  },
): VaultAppRolePort {
  const call = async <T>(
    what: string,
    work: (vault: Awaited<ReturnType<VaultSession["client"]>>) => Promise<T>,
  ) => {
    const vault = await session.client();
    try {
      return await work(vault);
    } catch (error) {
      throw toVaultError(error, what);
    }
  };
  return {
    async roleName() {
      if (settings.roleName !== undefined) return settings.roleName;
      const self = await call("Vault token lookup", (vault) => vault.tokenLookupSelf());
      const name = (self as { data?: { meta?: { role_name?: unknown } } }).data?.meta?.role_name;
      if (typeof name !== "string" || name === "") {
        throw new UpstreamError(
          "Leasehold's Vault token names no AppRole role (meta.role_name); set vault.appRole.roleName in leasehold.yaml",
          { retryable: false },
        );
      }
      return name;
    },

    async mint(roleName) {
      const minted = await call("Vault AppRole secret id generation", (vault) =>
        vault.write(rolePath(roleName, "secret-id"), {}),
      );
      const data = (minted as { data?: { secret_id?: unknown; secret_id_accessor?: unknown } }).data;
      if (typeof data?.secret_id !== "string" || typeof data.secret_id_accessor !== "string") {
        throw new UpstreamError("Vault answered a secret id generation without a secret id and accessor", {
          retryable: false,
        });
      }
      return { secretId: data.secret_id, accessor: data.secret_id_accessor };
    },

    async accessorOf(roleName, secretId) {
      // An unknown secret id is 204 with no body, which node-vault resolves to undefined.
      const found = await call("Vault AppRole secret id lookup", (vault) =>
        vault.write(rolePath(roleName, "secret-id/lookup"), { secret_id: secretId }),
      );
      const accessor = (found as { data?: { secret_id_accessor?: unknown } } | undefined)?.data
        ?.secret_id_accessor;
      return typeof accessor === "string" ? accessor : undefined;
    },

    async test(secretId) {
      const probe = vaultClientFor(settings);
      try {
        await probe.approleLogin({ role_id: settings.roleId, secret_id: secretId });
      } catch (error) {
        if (!isLoginRefusal(error)) throw toVaultError(error, "Vault AppRole login with the new secret id");
        throw new UpstreamError("the new Vault secret id does not log in", {
          retryable: false,
          cause: error,
        });
      }
      // The probe's token is not needed; a failure to revoke it leaves a token that expires by itself.
      await probe.tokenRevokeSelf().catch(() => undefined);
    },

    async destroy(roleName, accessor) {
      const vault = await session.client();
      try {
        await vault.write(rolePath(roleName, "secret-id-accessor/destroy"), { secret_id_accessor: accessor });
      } catch (error) {
        const status = vaultStatus(error);
        if ((status === 404 || status === 500) && errorsOf(error).includes(UNKNOWN_ACCESSOR)) return;
        throw toVaultError(error, "Vault AppRole secret id destruction");
      }
    },
  };
}
