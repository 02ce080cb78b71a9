import {
  type AuditData,
  type CheckpointSchedule,
  checkpointDue,
  ForbiddenError,
  NotFoundError,
  type Principal,
  SYSTEM_ACTOR,
} from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { mayReadAudit } from "./policy-checks.js";

/**
 * The key that signs checkpoints, behind a port: the use cases never hold key material or read the
 * configuration; runtime wires the key (derived from the master key, or LEASEHOLD_CHECKPOINT_KEY).
 */
export type CheckpointSigner = {
  readonly keyId: string;
  /** SPKI PEM: what auditors verify checkpoints with. */
  readonly publicKeyPem: string;
  /**
   * The public keys of the previous master keys' checkpoint keys (LEASEHOLD_MASTER_KEYS_PREVIOUS): the
   * checkpoints signed before the master key was rotated still verify with them.
   */
  readonly previous: readonly { readonly keyId: string; readonly publicKeyPem: string }[];
  /** Signs the head at `at`: the `audit.checkpoint` event's data. */
  sign(head: { seq: number; hash: string; at: string }): AuditData<"audit.checkpoint">;
};

export type CheckpointSetup = {
  readonly signer: CheckpointSigner;
  readonly schedule: CheckpointSchedule;
};

type Deps = Pick<BrokerDeps, "store" | "policy" | "clock" | "log">;

/** The lock that keeps two workers from writing the same checkpoint twice. */
const CHECKPOINT_LOCK = "audit-checkpoint";

/**
 * Signed checkpoints of the audit trail (audit-checkpoint.ts in the domain): written into the trail
 * itself, so every sink receives them in order with the other events, and anchors it outside the
 * database. Absent `setup` (tests of other use cases), no checkpoint is written and there is no key.
 */
export function createAuditCheckpointService(deps: Deps, setup: CheckpointSetup | undefined) {
  const { store, clock, log } = deps;
  return {
    /** The key's id, for the worker's start-up line; undefined without a key. */
    checkpointKeyId: setup?.signer.keyId,

    /**
     * Writes a checkpoint of the head when one is due (the worker's sweep step, every few seconds).
     * One worker at a time decides and writes; the head is read and the checkpoint appended under the
     * head's lock, so its seq and hash are exactly those of the event before it.
     */
    async checkpoint(): Promise<{ readonly covers: number; readonly seq: number } | undefined> {
      if (!setup) return undefined;
      const { signer, schedule } = setup;
      const written = await store.exclusive(CHECKPOINT_LOCK, (locked) =>
        locked.transaction(async (repos) => {
          const last = await repos.audit.latestOf("audit.checkpoint");
          const head = await repos.audit.latestSeq();
          const now = clock();
          // A master key change is signed over at once: the checkpoint after it is what anchors the
          // change outside the database for auditors, who hold public keys and no master key.
          const keyChanged = await repos.audit.hasSince("audit.key_changed", last?.seq ?? 0);
          if (!keyChanged && !checkpointDue(schedule, head, last, now)) return undefined;
          const event = await repos.audit.appendOverHead(
            (covered) => ({
              actor: SYSTEM_ACTOR.checkpoint,
              action: "audit.checkpoint",
              subjectType: "audit",
              subjectId: String(covered.seq),
              data: signer.sign({ seq: covered.seq, hash: covered.hash, at: now.toISOString() }),
            }),
            now,
          );
          return { covers: Number(event.subjectId), seq: event.seq };
        }),
      );
      if (written) log.info({ ...written, keyId: signer.keyId }, "audit checkpoint signed");
      return written;
    },

    /** The public key auditors check checkpoints with, and the previous ones still in the keyring (admins: ReadAudit). */
    publicKey(principal: Principal): {
      keyId: string;
      publicKeyPem: string;
      previous: readonly { readonly keyId: string; readonly publicKeyPem: string }[];
    } {
      if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may read the audit trail");
      if (!setup) throw new NotFoundError("this installation signs no audit checkpoints");
      const { keyId, publicKeyPem, previous } = setup.signer;
      return { keyId, publicKeyPem, previous };
    },
  };
}

export type AuditCheckpointService = ReturnType<typeof createAuditCheckpointService>;
