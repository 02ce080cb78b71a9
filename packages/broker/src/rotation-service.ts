import type { RotationConfig } from "@leasehold/config";
import type { RotationRun, RotationStep } from "@leasehold/db";
import {
  ForbiddenError,
  NotFoundError,
  type Principal,
  SYSTEM_ACTOR,
  UpstreamError,
} from "@leasehold/domain";
import {
  type DatabasePasswords,
  generateSqlPassword,
  type RotatedDatabase,
  type SecretStore,
  type SecretValue,
} from "@leasehold/providers";
import { isAdmin } from "./authorization.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { describeFailure, isRetryable } from "./failures.js";

/** What a run must remember between its steps; sealed with the run while it is in flight. */
type Staged = {
  readonly value: SecretValue;
  /** The secret version current when the run started: promoting needs it to be current still. */
  readonly baseVersion: string;
  /** The password the database had, to put back if the run fails after changing it. */
  readonly previousPassword: string;
};

export type RotationDeps = Pick<BrokerDeps, "store" | "cipher" | "clock" | "newId" | "admins" | "log"> & {
  readonly rotations: ReadonlyMap<string, RotationConfig>;
  readonly secretStoreFor: (rotation: RotationConfig) => SecretStore;
  readonly passwords: DatabasePasswords;
  readonly databaseFor: (rotation: RotationConfig) => RotatedDatabase;
  /** Queues a run for the worker. */
  readonly enqueueRun: (run: {
    rotationId: string;
    triggerKey: string;
    triggeredBy: string;
  }) => Promise<void>;
};

const ORDER: readonly RotationStep[] = ["create", "set", "test", "finish", "done"];
const after = (step: RotationStep, other: RotationStep) => ORDER.indexOf(step) > ORDER.indexOf(other);

/**
 * Rotates a database password held in a secret, in the four steps of Secrets Manager's protocol:
 * create (generate and stage the new value under the run's token), set (give it to the database),
 * test (log in with it), finish (make it current). Each step is recorded when done and is idempotent,
 * so a crash and a retry at any point end in a consistent state. A run that fails after the database
 * changed puts the previous password back, so the current secret always keeps working.
 */
export function createRotationService(deps: RotationDeps) {
  const {
    store,
    cipher,
    clock,
    newId,
    admins,
    log,
    rotations,
    secretStoreFor,
    passwords,
    databaseFor,
    enqueueRun,
  } = deps;

  const rotationOf = (id: string) => {
    const rotation = rotations.get(id);
    if (!rotation) throw new NotFoundError(`there is no rotation called ${id}`);
    return rotation;
  };
  /**
   * Ends a run as failed. `restore` puts the previous password back when the database may already
   * have the new one (the run got past "set").
   */
  const fail = async (
    run: RotationRun,
    rotationId: string,
    error: unknown,
    restore?: () => Promise<void>,
  ) => {
    let rolledBack = false;
    if (restore && after(run.step, "set")) {
      try {
        await restore();
        rolledBack = true;
      } catch (rollbackError) {
        log.error(
          { rotation: rotationId, runId: run.id, error: describeFailure(rollbackError) },
          "ROTATION ROLLBACK FAILED: the database holds the pending password (see the run's pending version)",
        );
      }
    }
    const reason = describeFailure(error);
    await store.transaction(async (repos) => {
      const failed = await repos.rotations.finish(run.id, "failed", clock(), reason);
      if (!failed) return;
      await repos.audit.append(
        {
          actor: SYSTEM_ACTOR.worker,
          action: "rotation.failed",
          subjectType: "rotation",
          subjectId: run.id,
          data: { rotation: rotationId, step: run.step, error: reason, rolledBack },
        },
        clock(),
      );
    });
    log.error(
      { rotation: rotationId, runId: run.id, step: run.step, error: reason, rolledBack },
      "ROTATION FAILED",
    );
  };

  return {
    /** Starts a run for a trigger (a schedule tick or a person); the same trigger never starts two. */
    async start(rotationId: string, trigger: { key: string; by: string }): Promise<RotationRun> {
      rotationOf(rotationId);
      const { run, created } = await store.transaction(async (repos) => {
        const started = await repos.rotations.start({
          id: newId(),
          rotationId,
          triggerKey: trigger.key,
          triggeredBy: trigger.by,
          at: clock(),
        });
        if (started.created && started.run) {
          await repos.audit.append(
            {
              actor: trigger.by,
              action: "rotation.started",
              subjectType: "rotation",
              subjectId: started.run.id,
              data: { rotation: rotationId, trigger: trigger.key },
            },
            clock(),
          );
        }
        return started;
      });
      if (!run) throw new Error(`rotation run for ${rotationId}/${trigger.key} vanished`);
      if (created) log.info({ rotation: rotationId, runId: run.id, by: trigger.by }, "rotation started");
      return run;
    },

    /** Runs (or resumes) a run's remaining steps. */
    async execute(runId: string, attempt: Attempt): Promise<"succeeded" | "skipped"> {
      let run = await store.transaction((repos) => repos.rotations.beginAttempt(runId));
      if (!run) return "skipped";
      const rotation = rotations.get(run.rotationId);
      if (!rotation) {
        await fail(run, run.rotationId, new NotFoundError("the rotation is no longer configured"));
        return "skipped";
      }
      const secret = secretStoreFor(rotation);
      const db = databaseFor(rotation);
      const token = run.id;
      let staged: Staged | undefined;
      const stepDone = async (step: RotationStep, next: RotationStep) => {
        await store.transaction(async (repos) => {
          await repos.rotations.completeStep(token, step, next, clock());
          await repos.audit.append(
            {
              actor: SYSTEM_ACTOR.worker,
              action: "rotation.step",
              subjectType: "rotation",
              subjectId: token,
              data: { rotation: rotation.id, step },
            },
            clock(),
          );
        });
        run = { ...(run as RotationRun), step: next };
      };

      try {
        const sealed = await store.read((repos) => repos.rotations.pending(token));
        const stageNew = async (): Promise<Staged> => {
          const current = await secret.readCurrent();
          if (current.value.username !== rotation.database.username) {
            throw new UpstreamError(
              `the secret's username is not ${rotation.database.username}; fix the secret or the rotation`,
              { retryable: false },
            );
          }
          const value = (await secret.readPending(token)) ?? {
            ...current.value,
            password: generateSqlPassword(rotation.password.length),
          };
          const fresh = {
            value,
            baseVersion: current.version,
            previousPassword: current.value.password ?? "",
          };
          const blob = cipher.seal(token, { staged: JSON.stringify(fresh) });
          await store.transaction((repos) => repos.rotations.savePending(token, blob));
          return fresh;
        };
        // A resumed run continues with the value it staged before; a new one stages one now.
        const ready: Staged = sealed
          ? (JSON.parse(cipher.open(token, sealed).staged ?? "{}") as Staged)
          : await stageNew();
        staged = ready;
        if (run.step === "create") {
          await secret.stagePending(token, ready.value);
          await stepDone("create", "set");
        }
        if (run.step === "set") {
          await passwords.set(db, ready.value.password ?? "");
          await stepDone("set", "test");
        }
        if (run.step === "test") {
          try {
            await passwords.test(db, ready.value.password ?? "");
          } catch (error) {
            // A password the database refuses is never made current; an unreachable database is retried.
            if (isRetryable(error)) throw error;
            throw new UpstreamError(`the new password does not log in: ${describeFailure(error)}`, {
              retryable: false,
            });
          }
          await stepDone("test", "finish");
        }
        if (run.step === "finish" && !(await secret.isCurrent(token, ready.value))) {
          await secret.promote(token, ready.value, ready.baseVersion);
        }
        await store.transaction(async (repos) => {
          const done = await repos.rotations.finish(token, "succeeded", clock(), null);
          if (!done) return;
          await repos.audit.append(
            {
              actor: SYSTEM_ACTOR.worker,
              action: "rotation.succeeded",
              subjectType: "rotation",
              subjectId: token,
              data: { rotation: rotation.id, attempts: run?.attempts ?? 0 },
            },
            clock(),
          );
        });
        log.info({ rotation: rotation.id, runId: token }, "rotation succeeded");
        return "succeeded";
      } catch (error) {
        const restore = staged && (() => passwords.set(db, staged?.previousPassword ?? ""));
        if (!isRetryable(error) || attempt.isLast) await fail(run, rotation.id, error, restore);
        else {
          await store.transaction((repos) => repos.rotations.recordError(token, describeFailure(error)));
          log.warn(
            { rotation: rotation.id, runId: token, step: run.step, error: describeFailure(error) },
            "rotation step failed; will retry",
          );
        }
        throw error;
      }
    },

    /**
     * Checks a rotation without changing anything: the secret reads and names the configured user, and its
     * current password logs in to the database.
     */
    async dryRun(principal: Principal, rotationId: string) {
      if (!isAdmin(principal, admins)) throw new ForbiddenError("only admins may run rotations");
      const rotation = rotationOf(rotationId);
      const current = await secretStoreFor(rotation).readCurrent();
      const checks: { check: string; ok: boolean; detail: string }[] = [
        {
          check: "the secret names the rotated user",
          ok: current.value.username === rotation.database.username,
          detail: `secret version ${current.version}`,
        },
      ];
      try {
        await passwords.test(databaseFor(rotation), current.value.password ?? "");
        checks.push({ check: "the current password logs in", ok: true, detail: "" });
      } catch (error) {
        checks.push({ check: "the current password logs in", ok: false, detail: describeFailure(error) });
      }
      return {
        rotationId,
        ok: checks.every((c) => c.ok),
        checks,
        steps: ["create", "set", "test", "finish"],
      };
    },

    /** A person starts a run now (admins only); the worker carries it out. */
    async run(principal: Principal, rotationId: string): Promise<RotationRun> {
      if (!isAdmin(principal, admins)) throw new ForbiddenError("only admins may run rotations");
      const run = await this.start(rotationId, { key: `manual-${newId()}`, by: principal.id });
      await enqueueRun({ rotationId, triggerKey: run.triggerKey, triggeredBy: principal.id });
      return run;
    },

    /**
     * Queues again the runs still running that started before `before` (their job was lost with Redis,
     * or ran out of attempts in a crash). Job ids are per run, so a run still queued is not doubled.
     */
    async resumeStalled(before: Date, limit: number): Promise<number> {
      const stalled = await store.read((repos) => repos.rotations.listStalled(before, limit));
      for (const run of stalled) {
        if (!rotations.has(run.rotationId)) continue;
        await enqueueRun({
          rotationId: run.rotationId,
          triggerKey: run.triggerKey,
          triggeredBy: run.triggeredBy,
        });
      }
      return stalled.length;
    },

    async runs(principal: Principal, rotationId: string, limit: number): Promise<RotationRun[]> {
      if (!isAdmin(principal, admins)) throw new ForbiddenError("only admins may read rotation runs");
      rotationOf(rotationId);
      return store.read((repos) => repos.rotations.list(rotationId, limit));
    },
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
