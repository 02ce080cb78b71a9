import { createHash } from "node:crypto";
import { idSchema } from "@leasehold/domain";
import type { BackoffOptions, KeepJobs } from "bullmq";
import { z } from "zod";

/**
 * The trace context of the call that enqueued a job (W3C `traceparent`/`tracestate`), so the worker's
 * span continues its trace; absent when tracing is off. Bounded here; @leasehold/tracing checks the format.
 */
export const jobTraceSchema = z
  .object({ traceparent: z.string().max(55), tracestate: z.string().max(512).optional() })
  .strict()
  .optional();

/** How often a queue's jobs are tried in all, and how long BullMQ waits before each retry. */
export type RetryPolicy = { readonly attempts: number; readonly backoff?: BackoffOptions };

const grantJob = z.object({ grantId: idSchema }).strict();
/** Issue and revoke continue the trace of the call that asked for them; expiry runs at a deadline hours later, on its own. */
const tracedGrantJob = z.object({ grantId: idSchema, trace: jobTraceSchema }).strict();

/**
 * Every queue Leasehold uses: its Redis name, its payload schema, and how its jobs retry. A grant's
 * jobs have one id per grant (`grantJobId`), so enqueueing the same work twice while a job is waiting
 * is a no-op. The retry policy is the workers' (see queue-worker.ts), not stored in each job.
 */
export const queueRegistry = {
  /** Call the provider for an approved grant. */
  grantIssue: {
    name: "grant-issue",
    payload: tracedGrantJob,
    retry: { attempts: 6, backoff: { type: "exponential", delay: 1_000 } },
  },
  /** At the grant's deadline: make sure the credential is dead, then mark it expired. */
  grantExpire: {
    name: "grant-expire",
    payload: grantJob,
    retry: { attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
  },
  /** End a grant early. Failures retry with backoff, then become revocation debt. */
  grantRevoke: {
    name: "grant-revoke",
    payload: tracedGrantJob,
    retry: { attempts: 8, backoff: { type: "exponential", delay: 2_000 } },
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
    retry: { attempts: 10, backoff: { type: "exponential", delay: 1_000 } },
  },
  /** The expiry reminder DM, delayed until shortly before the grant's deadline (job id `grantJobId`). */
  notifyReminder: {
    name: "slack-reminder",
    payload: grantJob,
    retry: { attempts: 5, backoff: { type: "exponential", delay: 2_000 } },
  },
  /** Reads new audit events and enqueues their notifications (a job scheduler, every second). */
  notifyDispatch: {
    name: "slack-dispatch",
    payload: z.object({}).strict(),
    retry: { attempts: 1 },
  },
  /**
   * Copies new audit events to the configured audit sinks (a job scheduler, every second). Each sink
   * is exported under a database lock of its own, so overlapping runs on two workers deliver once.
   */
  auditExport: {
    name: "audit-export",
    payload: z.object({}).strict(),
    retry: { attempts: 1 },
  },
  /** A rotation's schedule ticked (a job scheduler per rotation: one tick across all workers). */
  rotationTick: {
    name: "rotation-tick",
    payload: z.object({ rotationId: z.string().min(1).max(63) }).strict(),
    retry: { attempts: 3, backoff: { type: "exponential", delay: 1_000 } },
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
    retry: { attempts: 6, backoff: { type: "exponential", delay: 5_000 } },
  },
} as const satisfies Record<string, { name: string; payload: z.ZodType; retry: RetryPolicy }>;

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

/**
 * The job id of a grant's issue, expiry, revoke and reminder jobs: the grant's UUID as 22 characters of
 * base64url. Shorter than the UUID's 36, so that an expiry job's stored options stay under Redis's
 * 64-byte listpack limit and its hash a listpack (see README, P4). Jobs queued under the UUID itself (before
 * this form) still run; what a rolling upgrade meets is in the README's P4 notes.
 */
export const grantJobId = (grantId: string): string =>
  Buffer.from(idSchema.parse(grantId).replaceAll("-", ""), "hex").toString("base64url");

/** The job id of the notification of audit event `seq`. */
export const notifyJobId = (seq: number): string => `audit-${seq}`;
