import { randomInt } from "node:crypto";
import type { RotationRun, RotationStep } from "@leasehold/db";
import {
  ForbiddenError,
  NotFoundError,
  noMetrics,
  type Principal,
  SYSTEM_ACTOR,
  UpstreamError,
} from "@leasehold/domain";
import {
  type RotatedCredential,
  type SecretStore,
  type SecretValue,
  secretValueSchema,
} from "@leasehold/providers";
import { z } from "zod";
import { commitAudited } from "./audited-change.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { describeFailure, isRetryable } from "./failures.js";
import { assertMayRotate, mayReadAudit } from "./policy-checks.js";

/** What a run must remember between its steps; sealed with the run while it is in flight. */
const stagedSchema = z.union([
  z.object({
    value: secretValueSchema,
    /** The secret version current when the run started: promoting needs it to be current still. */
    baseVersion: z.string(),
    /** The value current when the run started: what a failed run restores, what "finish" retires. */
    previous: secretValueSchema,
  }),
  // Sealed by a version that rotated only one role's password in place: same meaning.
  z
    .object({ value: secretValueSchema, baseVersion: z.string(), previousPassword: z.string().min(1) })
    .transform(({ value, baseVersion, previousPassword }) => ({
      value,
      baseVersion,
      previous: { ...value, password: previousPassword },
    })),
]);
type Staged = { value: SecretValue; baseVersion: string; previous: SecretValue };

/**
 * What a run needs of a rotation's settings in leasehold.yaml (the configuration's RotationConfig has
 * them; the use cases do not read configuration themselves).
 */
export type RotationSettings = {
  readonly id: string;
  /** What leasehold.yaml says of the rotated secret (shown to admins). */
  readonly description: string;
  /**
   * Where the secret lives, under leasehold.yaml's own key (`awsSecretsManager` or `vaultKv`), or
   * `vaultAppRole` for Leasehold's own Vault secret id (vault-secret-id-rotation.ts).
   */
  readonly secret:
    | { readonly awsSecretsManager: unknown }
    | { readonly vaultKv: unknown }
    | { readonly vaultAppRole: unknown };
  /** A scheduled run starts up to this long after its tick, so rotations do not all start at once. */
  readonly schedule: { readonly cron: string; readonly jitterSeconds: number };
};

/** A configured rotation and the two ports it runs through (built once, when the broker opens). */
export type Rotation = {
  readonly config: RotationSettings;
  /** Where the secret lives (Secrets Manager, Vault KV). */
  readonly secret: SecretStore;
  /** What the secret's value opens: a database role, a pair of them, an IAM user's keys. */
  readonly credential: RotatedCredential;
};

/** The configured rotations, and how a run is queued for the worker. */
export type RotationSetup = {
  readonly rotations: ReadonlyMap<string, Rotation>;
  readonly enqueueRun: (
    run: { rotationId: string; triggerKey: string; triggeredBy: string },
    delayMs?: number,
  ) => Promise<void>;
};

export type RotationDeps = Pick<
  BrokerDeps,
  "store" | "cipher" | "clock" | "newId" | "policy" | "log" | "metrics"
> & {
  /** Absent when leasehold.yaml configures no rotations: then there are none to start or run. */
  readonly setup: RotationSetup | undefined;
};

/**
 * Rotates a credential held in a secret, in the four steps of Secrets Manager's protocol: create (the
 * credential makes the new value, staged under the run's token), set (the upstream takes it), test (it
 * is used once), finish (it becomes current, and the credential retires the previous one). Each step is
 * recorded when done and is idempotent, so a crash and a retry at any point end in a consistent state.
 * A run that fails once its new value was made has the credential undo it, unless the new value is
 * already current, so the current secret always keeps working and nothing the run made is left behind.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose helpers and methods share the dependencies it closes over; each is short.
export function createRotationService(deps: RotationDeps) {
  const { store, cipher, clock, newId, log, setup } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const configured = (id: string): Rotation | undefined => setup?.rotations.get(id);

  const rotationOf = (id: string) => {
    const rotation = configured(id);
    if (!rotation) throw new NotFoundError(`there is no rotation called ${id}`);
    return rotation;
  };
  /** Reads what a run staged before; a value sealed in another shape is not guessed at. */
  const openStaged = (token: string, sealed: Buffer): Staged => {
    const opened = cipher.open({ id: token }, sealed);
    const text =
      typeof opened === "object" && opened !== null && "staged" in opened ? opened.staged : undefined;
    const parsed = typeof text === "string" ? stagedSchema.safeParse(JSON.parse(text)) : undefined;
    if (!parsed?.success) {
      throw new UpstreamError("the run's staged value is unreadable; start a new run", { retryable: false });
    }
    return parsed.data;
  };
  /**
   * Ends a run as failed. `restore` (given once a new value was made) undoes what the credential did
   * upstream, and says whether it did. It runs from "create" on: an IAM key exists from "create", and a
   * password may have been set by a "set" that crashed before it was recorded.
   */
  const fail = async (
    run: RotationRun,
    rotationId: string,
    error: unknown,
    restore?: () => Promise<boolean>,
  ) => {
    let rolledBack = false;
    if (restore) {
      try {
        rolledBack = await restore();
      } catch (rollbackError) {
        log.error(
          { rotation: rotationId, runId: run.id, error: describeFailure(rollbackError) },
          "ROTATION ROLLBACK FAILED: the upstream may hold the pending value (see the run's pending version)",
        );
      }
    }
    const reason = describeFailure(error);
    const ended = await commitAudited(store, clock(), async (repos, record) => {
      const failed = await repos.rotations.finish(run.id, "failed", clock(), reason);
      if (!failed) return false;
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.failed",
        subjectType: "rotation",
        subjectId: run.id,
        data: { rotation: rotationId, step: run.step, error: reason, rolledBack },
      });
      return true;
    });
    // Counted once committed, and once per run however many workers raced to end it.
    if (ended) metrics.rotationOutcome(rotationId, "failed");
    log.error(
      { rotation: rotationId, runId: run.id, step: run.step, error: reason, rolledBack },
      "ROTATION FAILED",
    );
  };

  /** Records `step` as done and `next` as the run's step, with its audit event. */
  const completeStep = (token: string, rotationId: string, step: RotationStep, next: RotationStep) =>
    commitAudited(store, clock(), async (repos, record) => {
      await repos.rotations.completeStep(token, step, next, clock());
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.step",
        subjectType: "rotation",
        subjectId: token,
        data: { rotation: rotationId, step },
      });
    });

  /** Stages a new value for the run (made by the credential) and seals it with the run. */
  const stageNew = async ({ secret, credential }: Rotation, run: RotationRun): Promise<Staged> => {
    const token = run.id;
    const current = await secret.readCurrent();
    const value =
      (await secret.readPending(token)) ?? (await credential.next(current.value, token, run.startedAt));
    const fresh: Staged = { value, baseVersion: current.version, previous: current.value };
    const blob = cipher.seal({ id: token }, { staged: JSON.stringify(fresh) });
    await store.transaction((repos) => repos.rotations.savePending(token, blob));
    return fresh;
  };

  /** Takes a run from `progress.step` through finish; `progress` follows each step as it is recorded. */
  const runSteps = async (
    { config, secret, credential }: Rotation,
    token: string,
    ready: Staged,
    progress: { step: RotationStep },
  ) => {
    const done = async (next: RotationStep) => {
      await completeStep(token, config.id, progress.step, next);
      progress.step = next;
    };
    if (progress.step === "create") {
      await secret.stagePending(token, ready.value);
      await done("set");
    }
    if (progress.step === "set") {
      await credential.set(ready.value);
      await done("test");
    }
    if (progress.step === "test") {
      try {
        await credential.test(ready.value);
      } catch (error) {
        // A value the upstream refuses is never made current; an unreachable upstream is retried.
        if (isRetryable(error)) throw error;
        throw new UpstreamError(`the new value does not work: ${describeFailure(error)}`, {
          retryable: false,
        });
      }
      await done("finish");
    }
    if (progress.step === "finish") {
      if (!(await secret.isCurrent(token, ready.value))) {
        await secret.promote(token, ready.value, ready.baseVersion);
      }
      // After the promote, so applications move to the new value before the old one stops working.
      await credential.retire(ready.previous, ready.value);
    }
  };

  /**
   * How a failed run undoes "set": not once the new value is current, since undoing then would break
   * the secret applications read (a run that failed only while retiring the previous value).
   */
  const undoFor =
    ({ secret, credential }: Rotation, token: string, staged: Staged) =>
    async () => {
      if (await secret.isCurrent(token, staged.value)) return false;
      await credential.undo(staged.previous, staged.value);
      return true;
    };

  /** Ends a run as succeeded, with its audit event. */
  const succeed = async (run: RotationRun, rotationId: string) => {
    const ended = await commitAudited(store, clock(), async (repos, record) => {
      const done = await repos.rotations.finish(run.id, "succeeded", clock(), null);
      if (!done) return false;
      record({
        actor: SYSTEM_ACTOR.worker,
        action: "rotation.succeeded",
        subjectType: "rotation",
        subjectId: run.id,
        data: { rotation: rotationId, attempts: run.attempts },
      });
      return true;
    });
    if (ended) metrics.rotationOutcome(rotationId, "succeeded");
    log.info({ rotation: rotationId, runId: run.id }, "rotation succeeded");
  };

  return {
    /** Starts a run for a trigger (a schedule tick or a person); the same trigger never starts two. */
    async start(rotationId: string, trigger: { key: string; by: string }): Promise<RotationRun> {
      rotationOf(rotationId);
      const { run, created } = await commitAudited(store, clock(), async (repos, record) => {
        const started = await repos.rotations.start({
          id: newId(),
          rotationId,
          triggerKey: trigger.key,
          triggeredBy: trigger.by,
          at: clock(),
        });
        if (started.created && started.run) {
          record({
            actor: trigger.by,
            action: "rotation.started",
            subjectType: "rotation",
            subjectId: started.run.id,
            data: { rotation: rotationId, trigger: trigger.key },
          });
        }
        return started;
      });
      if (!run) throw new Error(`rotation run for ${rotationId}/${trigger.key} vanished`);
      if (created) log.info({ rotation: rotationId, runId: run.id, by: trigger.by }, "rotation started");
      return run;
    },

    /** Runs (or resumes) a run's remaining steps. */
    async execute(runId: string, attempt: Attempt): Promise<"succeeded" | "skipped"> {
      const run = await store.transaction((repos) => repos.rotations.beginAttempt(runId));
      if (!run) return "skipped";
      const rotation = configured(run.rotationId);
      if (!rotation) {
        await fail(run, run.rotationId, new NotFoundError("the rotation is no longer configured"));
        return "skipped";
      }
      const rotationId = rotation.config.id;
      const progress = { step: run.step };
      let staged: Staged | undefined;
      try {
        const sealed = await store.read((repos) => repos.rotations.pending(run.id));
        // A resumed run continues with the value it staged before; a new one stages one now.
        staged = sealed ? openStaged(run.id, sealed) : await stageNew(rotation, run);
        await runSteps(rotation, run.id, staged, progress);
        await succeed(run, rotationId);
        return "succeeded";
      } catch (error) {
        const current = { ...run, step: progress.step };
        // Nothing was staged: the upstream was never given a new value, so there is none to undo.
        const restore = staged && undoFor(rotation, run.id, staged);
        if (!isRetryable(error) || attempt.isLast) await fail(current, rotationId, error, restore);
        else {
          await store.transaction((repos) => repos.rotations.recordError(run.id, describeFailure(error)));
          log.warn(
            { rotation: rotationId, runId: run.id, step: current.step, error: describeFailure(error) },
            "rotation step failed; will retry",
          );
        }
        throw error;
      }
    },

    /**
     * Checks a rotation without changing anything: the secret reads and holds what the credential needs,
     * and the current value works (the credential's own checks).
     */
    async dryRun(principal: Principal, rotationId: string) {
      assertMayRotate(deps, principal, rotationId);
      const { secret, credential } = rotationOf(rotationId);
      const current = await secret.readCurrent();
      const checks = await credential.check(current.value);
      return {
        rotationId,
        ok: checks.every((c) => c.ok),
        secretVersion: current.version,
        checks,
        steps: ["create", "set", "test", "finish"],
      };
    },

    /**
     * A schedule's tick (the worker's `rotationTick` job): queues the rotation's run after a random
     * jitter, under a trigger made from the tick, so one tick never starts two runs.
     */
    async tick(rotationId: string, tickId: string): Promise<void> {
      const rotation = configured(rotationId);
      if (!rotation || !setup) return;
      const jitterMs = rotation.config.schedule.jitterSeconds * 1000;
      await setup.enqueueRun(
        { rotationId, triggerKey: `tick-${tickId}`, triggeredBy: SYSTEM_ACTOR.schedule },
        jitterMs > 0 ? randomInt(jitterMs) : 0,
      );
    },

    /** A person starts a run now (admins only); the worker carries it out. */
    async run(principal: Principal, rotationId: string): Promise<RotationRun> {
      assertMayRotate(deps, principal, rotationId);
      if (!setup?.rotations.has(rotationId))
        throw new NotFoundError(`there is no rotation called ${rotationId}`);
      const run = await this.start(rotationId, { key: `manual-${newId()}`, by: principal.id });
      await setup.enqueueRun({ rotationId, triggerKey: run.triggerKey, triggeredBy: principal.id });
      return run;
    },

    /**
     * Queues again the runs still running that started before `before` (their job was lost with Redis,
     * or ran out of attempts in a crash). Job ids are per run, so a run still queued is not doubled.
     */
    async resumeStalled(before: Date, limit: number): Promise<number> {
      const stalled = await store.read((repos) => repos.rotations.listStalled(before, limit));
      for (const run of stalled) {
        if (!setup?.rotations.has(run.rotationId)) continue;
        await setup.enqueueRun({
          rotationId: run.rotationId,
          triggerKey: run.triggerKey,
          triggeredBy: run.triggeredBy,
        });
      }
      return stalled.length;
    },

    async runs(principal: Principal, rotationId: string, limit: number): Promise<RotationRun[]> {
      if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may read rotation runs");
      rotationOf(rotationId);
      return store.read((repos) => repos.rotations.list(rotationId, limit));
    },
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
