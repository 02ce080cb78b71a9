import type { VaultAppRolePort } from "../vault/vault-approle.js";
import type { RotatedCredential } from "./rotated-credential.js";
import { failedCheck, loginCheck } from "./rotation-checks.js";
import { requireFields, type SecretValue } from "./secret-store.js";

const WHERE = "Leasehold's Vault secret id";

/**
 * Leasehold's own AppRole secret id (`secretId`, and `accessor` once Leasehold minted it; the bootstrap
 * VAULT_SECRET_ID comes without one). "create" mints a new secret id: Vault returns it once, so a crash
 * between the mint and the rotation service sealing the run's staged value leaves that one unused in
 * Vault until the role's secret_id_ttl expires it (README). "set" has nothing left to do, "test" logs
 * in with it, "finish" destroys the previous one by its accessor; undo destroys the new one.
 */
export function vaultAppRoleSecretId(appRole: VaultAppRolePort): RotatedCredential {
  const secretIdOf = (value: SecretValue) => requireFields(value, ["secretId"], WHERE).secretId;
  /** Destroys a secret id; one Vault no longer knows (no accessor found) is what was wanted. */
  const destroy = async (value: SecretValue) => {
    const roleName = await appRole.roleName();
    const accessor = value.accessor || (await appRole.accessorOf(roleName, secretIdOf(value)));
    if (accessor) await appRole.destroy(roleName, accessor);
  };
  return {
    async next(current) {
      secretIdOf(current);
      const minted = await appRole.mint(await appRole.roleName());
      return { secretId: minted.secretId, accessor: minted.accessor };
    },
    async set() {
      // Minted by "create": Vault already holds it.
    },
    async test(next) {
      await appRole.test(secretIdOf(next));
    },
    async retire(previous) {
      await destroy(previous);
    },
    async undo(_previous, next) {
      await destroy(next);
    },
    async check(current) {
      const role = await appRole.roleName().then(
        (name) => ({ check: "role", ok: true, detail: `AppRole role ${name}` }),
        (error: unknown) => failedCheck("role", error),
      );
      return [role, await loginCheck("login", () => appRole.test(secretIdOf(current)))];
    },
  };
}
