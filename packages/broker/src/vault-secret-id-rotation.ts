import type { Store, StoredVaultSecretId } from "@leasehold/db";
import { UpstreamError } from "@leasehold/domain";
import {
  type SecretStore,
  type SecretValue,
  type VaultAppRolePort,
  vaultAppRoleSecretId,
} from "@leasehold/providers";
import { z } from "zod";
import type { BrokerDeps } from "./broker-deps.js";
import type { CredentialCipher, SealBinding } from "./credential-cipher.js";
import type { Rotation } from "./rotation-service.js";

/** The rotation's id (leasehold.yaml may not name a rotation so). */
export const VAULT_SECRET_ID_ROTATION = "vault-approle-secret-id";

/** The version readCurrent reports before the first rotation (the bootstrap is not stored). */
const BOOTSTRAP_VERSION = "bootstrap";

const sealedSchema = z.object({ secretId: z.string().min(1), accessor: z.string().min(1) });

/**
 * A stored secret id opens only for its own row and for the role id Leasehold logs in with: one
 * stored for another role (VAULT_ROLE_ID changed) is not offered to Vault, the bootstrap is used.
 */
export const vaultSecretIdBinding = (rowId: string, roleId: string): SealBinding => ({
  id: rowId,
  holder: "vault-approle",
  target: roleId,
});

function openRow(cipher: CredentialCipher, roleId: string, row: StoredVaultSecretId | undefined) {
  if (!row?.sealed) return undefined;
  try {
    const parsed = sealedSchema.safeParse(cipher.open(vaultSecretIdBinding(row.id, roleId), row.sealed));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The secret id every replica logs in with: the current stored one, or undefined (then the bootstrap
 * VAULT_SECRET_ID) before the first rotation or when the stored one does not open for this role id.
 */
export const storedVaultSecretId =
  (store: Pick<Store, "read">, cipher: CredentialCipher, roleId: string) => async () => {
    const current = await store.read((repos) => repos.vaultSecretIds.current());
    return openRow(cipher, roleId, current)?.secretId;
  };

type StoreDeps = Pick<BrokerDeps, "store" | "cipher" | "clock"> & {
  /** VAULT_ROLE_ID and VAULT_SECRET_ID: the role, and the secret id to start from. */
  readonly roleId: string;
  readonly bootstrapSecretId: string;
};

/**
 * The secret store of Leasehold's own secret id: table vault_secret_ids, each row sealed for its id
 * and the role id. Before the first rotation the current value is the bootstrap (no accessor: the
 * credential asks Vault for it when it destroys it). A run's pending row has the run's id.
 */
export function vaultSecretIdStore({
  store,
  cipher,
  clock,
  roleId,
  bootstrapSecretId,
}: StoreDeps): SecretStore {
  const open = (row: StoredVaultSecretId | undefined) => openRow(cipher, roleId, row);
  const sealedFor = (token: string, value: SecretValue) => {
    const pair = sealedSchema.safeParse(value);
    if (!pair.success) {
      throw new UpstreamError("a new Vault secret id needs its secret id and accessor", { retryable: false });
    }
    return cipher.seal(vaultSecretIdBinding(token, roleId), pair.data);
  };
  return {
    async readCurrent() {
      const current = await store.read((repos) => repos.vaultSecretIds.current());
      const opened = open(current);
      return {
        // A current row sealed for another role id is still the version a promote replaces.
        version: current?.id ?? BOOTSTRAP_VERSION,
        value: opened ?? { secretId: bootstrapSecretId },
      };
    },

    async readPending(token) {
      const pending = await store.read((repos) => repos.vaultSecretIds.pending());
      return pending?.id === token ? open(pending) : undefined;
    },

    async stagePending(token, value) {
      const sealed = sealedFor(token, value);
      await store.transaction(async (repos) => {
        const pending = await repos.vaultSecretIds.pending();
        if (pending?.id === token) return;
        if (pending) {
          // A failed run's new secret id was destroyed by its undo; one still running holds the stage.
          const run = await repos.rotations.findById(pending.id);
          if (run?.state === "running") {
            throw new UpstreamError("another run of the Vault secret id rotation is under way", {
              retryable: true,
            });
          }
          await repos.vaultSecretIds.retirePending(pending.id, clock());
        }
        if (!(await repos.vaultSecretIds.addPending({ id: token, sealed, at: clock() }))) {
          throw new UpstreamError("another run staged a Vault secret id first", { retryable: true });
        }
      });
    },

    async promote(token, _value, baseVersion) {
      await store.transaction(async (repos) => {
        const current = await repos.vaultSecretIds.current();
        if ((current?.id ?? BOOTSTRAP_VERSION) !== baseVersion) {
          throw new UpstreamError("Leasehold's Vault secret id changed since the run started; run it again", {
            retryable: false,
          });
        }
        if (!(await repos.vaultSecretIds.promote(token, clock()))) {
          throw new UpstreamError("the run's Vault secret id is no longer pending", { retryable: false });
        }
      });
    },

    async isCurrent(token) {
      return (await store.read((repos) => repos.vaultSecretIds.current()))?.id === token;
    },
  };
}

/** What the rotation of Leasehold's secret id is built from (leasehold.yaml's vault.appRole). */
export type VaultSecretIdSetup = {
  readonly appRole: VaultAppRolePort;
  readonly roleId: string;
  readonly bootstrapSecretId: string;
  readonly schedule: { readonly cron: string };
};

/**
 * Leasehold's own Vault AppRole secret id as a rotation like the others: listed, dry-run, run and
 * audited as `vault-approle-secret-id`, scheduled by leasehold.yaml's vault.appRole.rotateSecretId.
 */
export function vaultSecretIdRotation(
  setup: VaultSecretIdSetup,
  deps: Pick<BrokerDeps, "store" | "cipher" | "clock">,
): Rotation {
  return {
    config: {
      id: VAULT_SECRET_ID_ROTATION,
      description: "Leasehold's own Vault AppRole secret id",
      secret: { vaultAppRole: {} },
      schedule: { cron: setup.schedule.cron, jitterSeconds: 0 },
    },
    secret: vaultSecretIdStore({
      ...deps,
      roleId: setup.roleId,
      bootstrapSecretId: setup.bootstrapSecretId,
    }),
    credential: vaultAppRoleSecretId(setup.appRole),
  };
}
