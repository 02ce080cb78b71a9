import type { Store, StoredVaultSecretId } from "@leasehold/db";
import { noMetrics, SYSTEM_ACTOR, UpstreamError } from "@leasehold/domain";
import type { VaultAppRolePort } from "@leasehold/providers";
import { z } from "zod";
import { commitAudited } from "./audited-change.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import type { CredentialCipher, SealBinding } from "./credential-cipher.js";
import { describeFailure, isRetryable } from "./failures.js";

/** The rotation id its audit events carry (leasehold.yaml may not name a rotation so). */
export const VAULT_SECRET_ID_ROTATION = "vault-approle-secret-id";

/** Only one worker rotates at a time, whatever the number of replicas. */
const LOCK = "vault-secret-id-rotation";

const sealedSchema = z.object({ secretId: z.string().min(1), accessor: z.string().min(1) });
type SecretIdPair = z.output<typeof sealedSchema>;

/**
 * A stored secret id opens only for its own row and for the role id Leasehold logs in with: one
 * stored for another role (VAULT_ROLE_ID changed) is not offered to Vault, the bootstrap is used.
 */
const bindingOf = (rowId: string, roleId: string): SealBinding => ({
  id: rowId,
  holder: "vault-approle",
  target: roleId,
});

function openPair(
  cipher: CredentialCipher,
  roleId: string,
  row: StoredVaultSecretId,
): SecretIdPair | undefined {
  if (row.sealed === null) return undefined;
  try {
    const parsed = sealedSchema.safeParse(cipher.open(bindingOf(row.id, roleId), row.sealed));
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
    return current === undefined ? undefined : openPair(cipher, roleId, current)?.secretId;
  };

export type VaultSecretIdSetup = {
  readonly appRole: VaultAppRolePort;
  /** VAULT_ROLE_ID and VAULT_SECRET_ID: the role, and the secret id to start from. */
  readonly roleId: string;
  readonly bootstrapSecretId: string;
};

export type VaultSecretIdDeps = Pick<
  BrokerDeps,
  "store" | "cipher" | "clock" | "newId" | "log" | "metrics"
> & {
  /** Absent when leasehold.yaml does not ask for the rotation (or Leasehold logs in with a token). */
  readonly setup: VaultSecretIdSetup | undefined;
};

/**
 * Rotates Leasehold's own Vault AppRole secret id: mint a new one for its own role, store it sealed as
 * pending, log in with it, make it current (every replica's next login uses it), then destroy the one
 * it replaced by its accessor. Each step is recorded before the next begins, so a crash anywhere resumes
 * where it stopped, and the current stored secret id (or the bootstrap one) always still logs in: the
 * old one is destroyed only after the new one is current. One crash window is Vault's alone: between
 * Vault minting a secret id and the database storing it, a crash leaves that unused secret id in Vault
 * (README: give the role a secret_id_ttl so such a one expires by itself).
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose steps share the dependencies it closes over; each step is short.
export function createVaultSecretIdService(deps: VaultSecretIdDeps) {
  const { cipher, clock, newId, log, setup } = deps;
  const metrics = deps.metrics ?? noMetrics;

  const step = (
    store: Store,
    subjectId: string,
    name: string,
    change?: Parameters<typeof commitAudited>[2],
  ) =>
    commitAudited(store, clock(), async (repos, record) => {
      if (change) await change(repos, record);
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.step",
        subjectType: "rotation",
        subjectId,
        data: { rotation: VAULT_SECRET_ID_ROTATION, step: name },
      });
    });

  /**
   * Rolls the step back when another row already holds the state (only one runs under the lock, so
   * this is a lost lock, not a race to win): the retry starts from what is stored.
   */
  const added = async (insert: Promise<boolean>) => {
    if (!(await insert)) throw new Error("another Vault secret id rotation is under way");
  };

  const seal = (rowId: string, pair: SecretIdPair, { roleId }: VaultSecretIdSetup) =>
    cipher.seal(bindingOf(rowId, roleId), pair);

  /** The bootstrap secret id becomes the stored current one (with its accessor), so it can be destroyed later. */
  const recordBootstrap = async (store: Store, s: VaultSecretIdSetup, roleName: string) => {
    const accessor = await s.appRole.accessorOf(roleName, s.bootstrapSecretId);
    if (accessor === undefined) {
      throw new UpstreamError("Vault does not know VAULT_SECRET_ID for the role (destroyed or expired)", {
        retryable: false,
      });
    }
    const id = newId();
    await step(store, id, "bootstrap-recorded", async (repos) => {
      const pair = { secretId: s.bootstrapSecretId, accessor };
      await added(repos.vaultSecretIds.add({ id, state: "current", sealed: seal(id, pair, s), at: clock() }));
    });
  };

  /** Mints a secret id and stores it as pending (the pending row is what a resumed run continues from). */
  const mint = async (store: Store, s: VaultSecretIdSetup, roleName: string) => {
    if ((await store.read((repos) => repos.vaultSecretIds.current())) === undefined) {
      await recordBootstrap(store, s, roleName);
    }
    const pair = await s.appRole.mint(roleName);
    const id = newId();
    await commitAudited(store, clock(), async (repos, record) => {
      await added(repos.vaultSecretIds.add({ id, state: "pending", sealed: seal(id, pair, s), at: clock() }));
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.started",
        subjectType: "rotation",
        subjectId: id,
        data: { rotation: VAULT_SECRET_ID_ROTATION, trigger: "schedule" },
      });
    });
    return { id, pair };
  };

  /** Destroys every retired secret id in Vault, then wipes it here. */
  const destroyRetired = async (store: Store, s: VaultSecretIdSetup, roleName: string) => {
    for (const row of await store.read((repos) => repos.vaultSecretIds.retired())) {
      const pair = openPair(cipher, s.roleId, row);
      // One that no longer opens (another role id) cannot be named to Vault; it is wiped all the same.
      if (pair) await s.appRole.destroy(roleName, pair.accessor);
      await step(store, row.id, "destroyed", async (repos) => {
        await repos.vaultSecretIds.destroyed(row.id, clock());
      });
    }
  };

  /** Tests the pending secret id and makes it current; one Vault refuses is retired instead. */
  const promote = async (
    store: Store,
    s: VaultSecretIdSetup,
    pending: { id: string; pair: SecretIdPair },
  ) => {
    try {
      await s.appRole.test(pending.pair.secretId);
    } catch (error) {
      if (!isRetryable(error)) {
        await step(store, pending.id, "refused", async (repos) => {
          await repos.vaultSecretIds.retire(pending.id, clock());
        });
      }
      throw error;
    }
    await step(store, pending.id, "tested");
    await step(store, pending.id, "promoted", async (repos) => {
      await repos.vaultSecretIds.promote(pending.id, clock());
    });
  };

  const failed = async (error: unknown, subjectId: string) => {
    const reason = describeFailure(error);
    await commitAudited(deps.store, clock(), async (_repos, record) => {
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.failed",
        subjectType: "rotation",
        subjectId,
        data: { rotation: VAULT_SECRET_ID_ROTATION, step: "rotate", error: reason, rolledBack: false },
      });
    });
    metrics.rotationOutcome(VAULT_SECRET_ID_ROTATION, "failed");
    log.error({ rotation: VAULT_SECRET_ID_ROTATION, error: reason }, "VAULT SECRET ID ROTATION FAILED");
  };

  /**
   * One rotation, or the rest of one a crash interrupted. A run that finds replaced secret ids still to
   * destroy only destroys them: a retried job does not mint a second new one.
   */
  const rotateLocked = async (store: Store, s: VaultSecretIdSetup): Promise<"rotated" | "finished"> => {
    const roleName = await s.appRole.roleName();
    const leftover = await store.read((repos) => repos.vaultSecretIds.pending());
    const leftoverPair = leftover && openPair(cipher, s.roleId, leftover);
    if (leftover && !leftoverPair) {
      // Sealed for another role id: it cannot be tested or destroyed by this one.
      await step(store, leftover.id, "unreadable", async (repos) => {
        await repos.vaultSecretIds.retire(leftover.id, clock());
      });
    }
    if (!leftover && (await store.read((repos) => repos.vaultSecretIds.retired())).length > 0) {
      await destroyRetired(store, s, roleName);
      return "finished";
    }
    const pending =
      leftover && leftoverPair ? { id: leftover.id, pair: leftoverPair } : await mint(store, s, roleName);
    await promote(store, s, pending);
    await destroyRetired(store, s, roleName);
    await commitAudited(store, clock(), async (_repos, record) => {
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.succeeded",
        subjectType: "rotation",
        subjectId: pending.id,
        // One run per job attempt; a resumed rotation's earlier attempts are its earlier step events.
        data: { rotation: VAULT_SECRET_ID_ROTATION, attempts: 1 },
      });
    });
    metrics.rotationOutcome(VAULT_SECRET_ID_ROTATION, "succeeded");
    log.info({ rotation: VAULT_SECRET_ID_ROTATION }, "Vault secret id rotated");
    return "rotated";
  };

  return {
    /** The scheduled job: rotate (or finish a rotation), alone among the workers. */
    async rotate(attempt: Attempt): Promise<"rotated" | "finished" | "skipped"> {
      if (!setup) return "skipped";
      try {
        return await deps.store.exclusive(LOCK, (locked) => rotateLocked(locked, setup));
      } catch (error) {
        if (!isRetryable(error) || attempt.isLast) await failed(error, VAULT_SECRET_ID_ROTATION);
        else log.warn({ error: describeFailure(error) }, "Vault secret id rotation failed; will retry");
        throw error;
      }
    },
  };
}

export type VaultSecretIdService = ReturnType<typeof createVaultSecretIdService>;
