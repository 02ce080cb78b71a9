import { type DurationLimits, type TargetOfKind, targetNarrowing, targetSchemaFor } from "@leasehold/domain";
import { z } from "zod";

/**
 * Database credentials from Vault: as short as an application likes (ten seconds is the floor, so a
 * deadline is never shorter than the time it takes to use it); past twelve hours they are renewed, not
 * issued.
 */
export const VAULT_DURATION_LIMITS: DurationLimits = { minSeconds: 10, maxSeconds: 43_200 };

/** Like `database/creds/orders-readonly`: `<mount>/creds/<role>`. */
const credsPathSchema = z
  .string()
  .max(255)
  .regex(
    /^[a-z0-9][a-z0-9_-]*(?:\/[a-z0-9][a-z0-9_-]*)*\/creds\/[a-zA-Z0-9][\w.-]*$/,
    "path is a Vault database credentials path like database/creds/orders-readonly",
  );

/** The `vault:` block of a `vault` target: a dynamic-secret path of Vault's database secrets engine. */
export const vaultSettingsSchema = z.object({ path: credsPathSchema }).strict();
export type VaultTargetSettings = z.output<typeof vaultSettingsSchema>;

/**
 * The `vault:` block of a scope: another role's path to read the credentials from (say
 * `database/creds/orders-readwrite` beside the target's read-only one). A request names at most one.
 */
export const vaultScopeSettingsSchema = z.object({ path: credsPathSchema }).strict();
export type VaultScopeSettings = z.output<typeof vaultScopeSettingsSchema>;

/** A `vault` target in leasehold.yaml: the common fields and the `vault:` block. */
export const vaultTargetSchema = targetSchemaFor({
  kind: "vault",
  settingsKey: "vault",
  settings: vaultSettingsSchema,
  durationLimits: VAULT_DURATION_LIMITS,
  scope: vaultScopeSettingsSchema,
  checkScopes: ({ defaultScopes }) =>
    defaultScopes.length > 1
      ? [[["defaultScopes"], "a vault target reads one path: name one default scope"]]
      : [],
});
export type VaultTarget = TargetOfKind<"vault", "vault", VaultTargetSettings, VaultScopeSettings>;

/** The target as a `vault` one. */
export const asVaultTarget = targetNarrowing<VaultTarget>("vault", "vault", "Vault");

const vaultId = z.string().trim().min(1).max(512);

/**
 * Committed before the credentials are read: the child token the lease will belong to, and which
 * attempt made it, so a retry can revoke it (and its leases) by accessor.
 */
export const vaultCheckpointSchema = z.object({
  tokenAccessor: vaultId,
  /** The issue attempt, in decimal. */
  attempt: z.string().regex(/^[1-9][0-9]{0,5}$/, "attempt is a positive whole number"),
});
export type VaultCheckpoint = z.output<typeof vaultCheckpointSchema>;

/** Kept once issued: the lease to renew and revoke, and the token that owns it. */
export const vaultIssuedReferenceSchema = z.object({
  leaseId: vaultId,
  tokenAccessor: vaultId,
  username: vaultId,
});
export type VaultIssuedReference = z.output<typeof vaultIssuedReferenceSchema>;

/** A `vault` grant's stored reference: the issued one, or only the checkpoint of an interrupted issue. */
export const vaultReferenceSchema = z.union([vaultIssuedReferenceSchema, vaultCheckpointSchema]);
export type VaultReference = z.output<typeof vaultReferenceSchema>;
