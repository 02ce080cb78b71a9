import { createHash } from "node:crypto";
import { idSchema } from "@leasehold/domain";
import type { JobsOptions, KeepJobs } from "bullmq";
import { z } from "zod";

/**
 * The trace context of the call that enqueued a job (W3C `traceparent`/`tracestate`), so the worker's
 * span continues its trace; absent when tracing is off. Bounded here; @leasehold/tracing checks the format.
 */
export const jobTraceSchema = z
  .object({ traceparent: z.string().max(55), tracestate: z.string().max(512).optional() })
  .strict()
  .optional();

const grantJob = z.object({ grantId: idSchema }).strict();
/** Issue and revoke continue the trace of the call that asked for them; expiry runs at a deadline hours later, on its own. */
const tracedGrantJob = z.object({ grantId: idSchema, trace: jobTraceSchema }).strict();

/**
 * Every queue Leasehold uses: its Redis name, its payload schema, and how its jobs retry. Job ids are
 * the grant id, so enqueueing the same work twice while a job is waiting is a no-op.
 */
export const queueRegistry = {
  /** Call the provider for an approved grant. */
  grantIssue: {
    name: "grant-issue",
    payload: tracedGrantJob,
    options: { attempts: 6, backoff: { type: "exponential", delay: 1_000 } },
  },
  /** At the grant's deadline: make sure the credential is dead, then mark it expired. */
  grantExpire: {
    name: "grant-expire",
    payload: grantJob,
    options: { attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
  },
  /** End a grant early. Failures retry with backoff, then become revocation debt. */
  grantRevoke: {
    name: "grant-revoke",
    payload: tracedGrantJob,
    options: { attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
  },
  /**
   * One notification per audit event (job id `notifyJobId(seq)`); `after` is the previous event of the
   * same lane, whose job must be done first. Completed jobs are kept for an hour so a dispatcher that
   * re-reads an event does not notify twice, and so a successor can see its predecessor is done.
   * (The Redis names date from when Slack was the only messenger; renaming them would orphan queued jobs.)
   */
  notifyDeliver: {
    name: "slack-notify",
    payload: z.object({ seq: z.int().min(1), after: z.int().min(1).optional() }).strict(),
    options: { attempts: 10, backoff: { type: "exponential", delay: 1_000 } },
  },
  /** The expiry reminder DM, delayed until shortly before the grant's deadline (job id = grant id). */
  notifyReminder: {
    name: "slack-reminder",
    payload: grantJob,
    options: { attempts: 5, backoff: { type: "exponential", delay: 2_000 } },
  },
  /** Reads new audit events and enqueues their notifications (a job scheduler, every second). */
  notifyDispatch: {
    name: "slack-dispatch",
    payload: z.object({}).strict(),
    options: { attempts: 1 },
  },
  /**
   * Copies new audit events to the configured audit sinks (a job scheduler, every second). Each sink
   * is exported under a database lock of its own, so overlapping runs on two workers deliver once.
   */
  auditExport: {
    name: "audit-export",
    payload: z.object({}).strict(),
    options: { attempts: 1 },
  },
  /** A rotation's schedule ticked (a job scheduler per rotation: one tick across all workers). */
  rotationTick: {
    name: "rotation-tick",
    payload: z.object({ rotationId: z.string().min(1).max(63) }).strict(),
    options: { attempts: 3, backoff: { type: "exponential", delay: 1_000 } },
  },
  /** One rotation run, by its trigger (job id derived from rotation and trigger, so a tick runs once). */
  rotationRun: {
    name: "rotation-run",
    payload: z
      .object({
        rotationId: z.string().min(1).max(63),
        triggerKey: z.string().min(1).max(255),
        triggeredBy: z.string().min(1).max(255),
        trace: jobTraceSchema,
      })
      .strict(),
    options: { attempts: 6, backoff: { type: "exponential", delay: 5_000 } },
  },
} as const satisfies Record<string, { name: string; payload: z.ZodType; options: JobsOptions }>;

export type QueueKey = keyof typeof queueRegistry;

/** Whether a queue's jobs carry the trace context of their enqueuer (the grant jobs and rotation runs). */
export const carriesTrace = (key: QueueKey): boolean => "trace" in queueRegistry[key].payload.shape;
export type Payload<Q extends QueueKey> = z.output<(typeof queueRegistry)[Q]["payload"]>;

/**
 * Completed and failed jobs are removed: the database, not Redis, is the record of what happened,
 * and a removed job id can be enqueued again by the sweep. Notifications keep completed ids for an
 * hour, so the same event is not sent twice. The workers apply it (`{ count: 0 }`: keep
 * none) rather than every job storing it in its options: shorter job hashes in Redis.
 */
export const retentionFor = (key: QueueKey): { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } =>
  key === "notifyDeliver"
    ? { removeOnComplete: { age: 3600 }, removeOnFail: { count: 0 } }
    : { removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } };

/** The job id of a rotation run: one per rotation and trigger (BullMQ ids may not contain ':'). */
export const rotationRunJobId = (rotationId: string, triggerKey: string): string =>
  `${rotationId}-${createHash("sha256").update(triggerKey).digest("hex").slice(0, 24)}`;

/** The job id of the notification of audit event `seq`. */
export const notifyJobId = (seq: number): string => `audit-${seq}`;
