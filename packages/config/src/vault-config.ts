import { z } from "zod";
import { cronSchema } from "./rotation-config.js";

/**
 * Leasehold's own Vault login (the connection itself comes from VAULT_ADDR and VAULT_TOKEN or
 * VAULT_ROLE_ID/VAULT_SECRET_ID). With AppRole, `rotateSecretId` replaces the secret id on a schedule:
 * VAULT_SECRET_ID is then only the bootstrap, destroyed after the first rotation (README, "Rotating
 * Leasehold's Vault secret id").
 */
export const vaultConfigSchema = z
  .object({
    appRole: z
      .object({
        /**
         * The AppRole role Leasehold logs in as. Omitted: the `role_name` Vault puts in the token's
         * metadata at login. Vault's role names are letters, digits, space, `-`, `_` and `.`.
         */
        roleName: z
          .string()
          .regex(
            /^(?!\.+$)[\w .-]{1,128}$/,
            "roleName is an AppRole role name: letters, digits, space, - _ and . (not dots alone)",
          )
          .optional(),
        rotateSecretId: z
          .object({ schedule: z.object({ cron: cronSchema }).strict() })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type VaultConfig = z.output<typeof vaultConfigSchema>;
