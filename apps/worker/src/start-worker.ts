import type { AuditExportService, Broker, Logger, NotificationService } from "@leasehold/broker";
import type { Metrics } from "@leasehold/domain";
import type { QueueConnection } from "@leasehold/queue";
import { auditExportProcessors } from "./audit-export-processors.js";
import { grantProcessors } from "./grant-processors.js";
import { startProcessors } from "./job-harness.js";
import { notificationProcessors } from "./notification-processors.js";
import { rotationProcessors } from "./rotation-processors.js";
import { startSweepLoop } from "./sweep-loop.js";

/**
 * How often the worker looks for grants more than a second past their deadline (their expiry jobs
 * lost, as after a Redis flush): often, so that each of them ends a few seconds late rather than up
 * to a sweep interval late. While the jobs keep time it is one indexed query that finds nothing.
 */
const OVERDUE_CHECK_MS = 1000;

/**
 * The drift scan lists whole backends (every inline policy of each role, every Vault token accessor),
 * so it runs every twentieth sweep's interval (five minutes at the default 15 s) rather than each sweep.
 */
const DRIFT_EVERY_SWEEPS = 20;

/**
 * How often the worker asks whether an audit checkpoint is due (leasehold.yaml's auditCheckpoints
 * decides whether it is): often enough that "every N events" is kept within a few seconds.
 */
const CHECKPOINT_CHECK_MS = 5000;

/** How often the worker looks for rotations overdue (no success for two periods of their schedule). */
const ROTATION_OVERDUE_CHECK_MS = 60_000;

/**
 * How often the re-seal after a master key rotation looks for values under a previous key (only while
 * LEASEHOLD_MASTER_KEYS_PREVIOUS names one). A run reads every grant row's MAC, so not every sweep; what
 * a run leaves at its batch limit waits for the next one.
 */
const RESEAL_EVERY_MS = 60_000;

/** What the worker runs: the use cases its jobs and its sweep call. */
export type WorkerUseCases = {
  readonly grants: Pick<Broker["grants"], "issue" | "expire" | "finishRevoke">;
  readonly rotations: Pick<
    Broker["rotations"],
    "tick" | "start" | "execute" | "resumeStalled" | "checkOverdue"
  >;
  readonly reconcile: Broker["reconcile"];
  readonly drift: Broker["drift"];
  readonly audit: Pick<Broker["audit"], "checkpoint" | "checkpointKeyId">;
  readonly reseal: Pick<Broker["reseal"], "run">;
  /** Present when a messenger is configured: notifications and reminders run here too. */
  readonly notifications: NotificationService | undefined;
  /** Present when leasehold.yaml names audit sinks: the trail is copied out every second. */
  readonly auditExport?: Pick<AuditExportService, "exportAll"> | undefined;
};

/** Runs the processors and the sweep; used by main.ts and local mode. */
export async function startWorker(options: {
  useCases: WorkerUseCases;
  queue: QueueConnection;
  /** Puts back the job schedulers Redis may have lost (rotations' crons, the notification dispatch). */
  ensureSchedules: () => Promise<void>;
  concurrency: number;
  lockMs: number;
  sweepIntervalMs: number;
  /** How often the drift scan runs; default DRIFT_EVERY_SWEEPS sweep intervals. */
  driftIntervalMs?: number;
  log: Logger;
  /** Where failed job attempts and sweeps are counted; omitted: nowhere. */
  metrics?: Pick<Metrics, "jobFailed" | "sweepFinished">;
}): Promise<{ close(): Promise<void> }> {
  const { useCases, log } = options;
  const { grants, rotations, reconcile, drift, audit, reseal, notifications, auditExport } = useCases;
  const workers = startProcessors(
    [
      ...grantProcessors(grants, { concurrency: options.concurrency }),
      ...rotationProcessors(rotations),
      ...(notifications ? notificationProcessors(notifications) : []),
      ...(auditExport ? auditExportProcessors(auditExport) : []),
    ],
    options.queue,
    { lockMs: options.lockMs, log, metrics: options.metrics },
  );
  await options.ensureSchedules();
  const sweep = startSweepLoop({
    intervalMs: options.sweepIntervalMs,
    log,
    steps: [
      {
        name: "reconcile",
        run: async (signal) => {
          const started = performance.now();
          const { overdue } = await reconcile.run(signal);
          options.metrics?.sweepFinished((performance.now() - started) / 1000, overdue);
        },
      },
      // Counted as a sweep only when it found grants whose jobs were lost, so that a check a second
      // that finds nothing does not swamp the sweep's durations.
      {
        name: "overdue",
        intervalMs: OVERDUE_CHECK_MS,
        run: async (signal) => {
          const started = performance.now();
          const { overdue } = await reconcile.expireOverdue(signal);
          if (overdue > 0) options.metrics?.sweepFinished((performance.now() - started) / 1000, overdue);
        },
      },
      // A rotation run untouched for a quarter of an hour has lost its job; queue it again.
      { name: "rotations", run: () => rotations.resumeStalled(new Date(Date.now() - 15 * 60_000), 100) },
      // Once a minute: an alert a minute late is no loss next to two periods; one worker at a time (a lock).
      {
        name: "rotation-overdue",
        intervalMs: ROTATION_OVERDUE_CHECK_MS,
        run: () => rotations.checkOverdue(),
      },
      // Job schedulers live in Redis: after a flush or a restart without persistence, put them back.
      { name: "schedules", run: options.ensureSchedules },
      // Backends compared with the database, on a timer of its own: a backend that cannot be listed
      // is reported in the step's result and never delays the steps above.
      {
        name: "drift",
        intervalMs: options.driftIntervalMs ?? DRIFT_EVERY_SWEEPS * options.sweepIntervalMs,
        run: (signal) => drift.run(signal),
      },
      // Signed checkpoints of the audit trail; one worker at a time writes them (a database lock).
      { name: "audit-checkpoint", intervalMs: CHECKPOINT_CHECK_MS, run: () => audit.checkpoint() },
      // After a master key rotation: values under a previous key, moved to the current one in batches.
      { name: "reseal", intervalMs: RESEAL_EVERY_MS, run: (signal) => reseal.run(signal) },
    ],
  });
  // Auditors check checkpoints against this key id (`leasehold audit public-key`).
  log.info(
    { sweepIntervalSeconds: options.sweepIntervalMs / 1000, auditCheckpointKeyId: audit.checkpointKeyId },
    "leasehold worker running",
  );
  return {
    // The sweep stops first; workers finish the jobs they hold, and nothing is taken from Redis after.
    close: async () => {
      await sweep.close();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
