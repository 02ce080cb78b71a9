import type { AccessRequestService } from "./access-request-service.js";
import type { BrokerDeps } from "./broker-deps.js";
import type { ExpiryService } from "./expiry-service.js";
import { describeFailure } from "./failures.js";
import type { GrantIssueService } from "./grant-issue-service.js";
import type { IncidentGrantService } from "./incident-grants.js";
import type { RequestEscalationService } from "./request-escalation-service.js";
import type { RevocationService } from "./revocation-service.js";

export type ReconcileOptions = {
  /** Most rows read per query, so one query stays short; past-deadline grants are drained batch by batch. */
  readonly batch: number;
  /** An issuing or revoking grant untouched this long has probably lost its job. */
  readonly stalledAfterSeconds: number;
  /** How long revocation debt rests between retry rounds. */
  readonly debtRetryAfterSeconds: number;
  /**
   * How long after a deadline the provider's clean-up runs. A margin over the deadline, so that a
   * session the provider's clock still considers alive is never released early.
   */
  readonly releaseAfterSeconds: number;
};

/** The release margin unless a deployment sets one (LEASEHOLD_RELEASE_MARGIN): five minutes. */
export const DEFAULT_RELEASE_AFTER_SECONDS = 300;

/**
 * The sweep's waits scale with its interval: work untouched for four sweeps is enqueued again (a
 * no-op when its job still exists) and debt rests four sweeps between retries. The release margin is
 * about the provider's clock, not the sweep, so it is its own setting (default five minutes).
 */
export const reconcileOptionsFor = (
  sweepIntervalSeconds: number,
  releaseAfterSeconds: number = DEFAULT_RELEASE_AFTER_SECONDS,
): ReconcileOptions => ({
  batch: 1000,
  stalledAfterSeconds: 4 * sweepIntervalSeconds,
  debtRetryAfterSeconds: 4 * sweepIntervalSeconds,
  releaseAfterSeconds,
});

/**
 * An expiry job runs well within a second of its deadline (BullMQ promotes delayed jobs within
 * milliseconds); a grant the sweep finds later than this has lost its job, or its job is far behind.
 */
const OVERDUE_AFTER_MS = 1000;

/** For the default sweep interval (15 s). */
export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = reconcileOptionsFor(15);

export type ReconcileReport = {
  requestsExpired: number;
  /** Pending requests moved one escalation level up because nobody decided in time. */
  requestsEscalated: number;
  /** Grants whose incidents all resolved, revoked by this sweep. */
  incidentGrantsEnded: number;
  /** Grants past their deadline that this sweep expired itself. */
  expired: number;
  /**
   * Of those, the ones more than a second past their deadline: their expiry jobs are lost (Redis
   * flushed) or far behind, so the sweep is doing their work.
   */
  overdue: number;
  /** Of those, the ones whose provider call failed: now revocation debt, retried after a rest. */
  expiryFailures: number;
  issuesEnqueued: number;
  /** Leases still issuing past the stall limit: failed, since only their API call could receive them. */
  leasesAbandoned: number;
  revocationsEnqueued: number;
  /** Jobs that could not be enqueued (Redis unreachable); the next sweep tries again. */
  enqueueFailures: number;
  released: number;
  releaseFailures: number;
};

type Deps = Pick<BrokerDeps, "store" | "queues" | "clock" | "log"> & {
  requests: Pick<AccessRequestService, "expireTimedOut">;
  escalation: Pick<RequestEscalationService, "escalateDue">;
  incidents: Pick<IncidentGrantService, "endResolved">;
  expiry: Pick<ExpiryService, "expire">;
  revocation: Pick<RevocationService, "release">;
  issue: Pick<GrantIssueService, "abandonStalledLease">;
  options?: ReconcileOptions;
};

/**
 * The reconciliation sweep: the database holds every deadline, so whatever Redis lost (a deleted
 * job, a flushed instance, an enqueue that failed after commit) is found here (invariant 5). Grants
 * past their deadline are expired here and now rather than enqueued, so expiry never waits on Redis:
 * the sweep is what covers Redis failing. Stalled issues and revocations are enqueued again (one job
 * id per grant, so enqueueing work that is already queued is a no-op), except a stalled lease's issue,
 * which is failed: only the API call that created it could have received it.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose steps share the options it closes over; each step is short.
export function createReconcileService(deps: Deps) {
  const { store, queues, clock, log, requests, escalation, incidents, expiry, revocation, issue, options } =
    deps;
  const opts = options ?? DEFAULT_RECONCILE_OPTIONS;
  const ago = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000);

  /**
   * Expires every grant past its deadline, page by page; the expiry service gathers a page's calls
   * into batches (one transaction per MAX_EXPIRY_BATCH grants, not one per grant). A failure is
   * recorded as revocation debt by the expiry itself (the attempt is the last: the deadline has
   * already passed), which takes the grant out of the next page until its debt has rested.
   */
  const expirePastDeadline = async (
    now: Date,
    report: Pick<ReconcileReport, "expired" | "overdue" | "expiryFailures">,
    signal?: AbortSignal,
    dueBy: Date = now,
  ) => {
    const seen = new Set<string>();
    const overdueBefore = now.getTime() - OVERDUE_AFTER_MS;
    for (;;) {
      if (signal?.aborted) return;
      const page = await store.read((repos) =>
        repos.grants.listPastDeadline(dueBy, ago(now, opts.debtRetryAfterSeconds), opts.batch),
      );
      const fresh = page.filter((grant) => !seen.has(grant.id));
      for (const grant of fresh) seen.add(grant.id);
      const deadlines = new Map(fresh.map((grant) => [grant.id, grant.expiresAt?.getTime() ?? 0]));
      const results = await Promise.allSettled(
        fresh.map((grant) => expiry.expire(grant.id, { isLast: true, signal })),
      );
      results.forEach((result, i) => {
        const grantId = fresh[i]?.id ?? "";
        if (result.status === "rejected") {
          report.expiryFailures += 1;
          log.warn({ grantId, error: describeFailure(result.reason) }, "expiry failed; the sweep retries");
        } else if (result.value === "expired") {
          report.expired += 1;
          if ((deadlines.get(grantId) ?? 0) < overdueBefore) report.overdue += 1;
        }
      });
      if (page.length < opts.batch || fresh.length === 0) return;
    }
  };

  /**
   * Enqueues one job; Redis being down is counted and logged once per sweep, not thrown. After one
   * failure the rest of this sweep's jobs are counted as failed without trying: each try would wait
   * for Redis, and the next sweep tries them all again.
   */
  const enqueue = async (
    report: ReconcileReport,
    work: () => Promise<void>,
    counter: "issuesEnqueued" | "revocationsEnqueued",
  ) => {
    if (report.enqueueFailures > 0) {
      report.enqueueFailures += 1;
      return;
    }
    try {
      await work();
      report[counter] += 1;
    } catch (error) {
      if (report.enqueueFailures === 0) {
        log.warn({ error: describeFailure(error) }, "could not enqueue; the next sweep tries again");
      }
      report.enqueueFailures += 1;
    }
  };

  return {
    async run(signal?: AbortSignal): Promise<ReconcileReport> {
      const now = clock();
      const report: ReconcileReport = {
        requestsExpired: await requests.expireTimedOut(opts.batch),
        // After expiring: a request past its window is expired, never escalated.
        requestsEscalated: await escalation.escalateDue(opts.batch),
        incidentGrantsEnded: await incidents.endResolved(opts.batch),
        expired: 0,
        overdue: 0,
        expiryFailures: 0,
        issuesEnqueued: 0,
        leasesAbandoned: 0,
        revocationsEnqueued: 0,
        enqueueFailures: 0,
        released: 0,
        releaseFailures: 0,
      };
      await expirePastDeadline(now, report, signal);

      const [inTransit, debt, unreleased] = await store.read((repos) =>
        Promise.all([
          repos.grants.listInTransit(ago(now, opts.stalledAfterSeconds), opts.batch),
          repos.grants.listRevocationDebt(ago(now, opts.debtRetryAfterSeconds), opts.batch),
          repos.grants.listUnreleased(ago(now, opts.releaseAfterSeconds), opts.batch),
        ]),
      );
      for (const grant of inTransit) {
        if (grant.state !== "issuing") {
          await enqueue(report, () => queues.revoke(grant.id), "revocationsEnqueued");
        } else if (grant.requestId === null) {
          await issue.abandonStalledLease(grant);
          report.leasesAbandoned += 1;
        } else {
          await enqueue(report, () => queues.issue(grant.id), "issuesEnqueued");
        }
      }
      // Debt before its deadline is retried as a revocation; past it, the expiry above covers it.
      for (const grant of debt) {
        if (grant.expiresAt && grant.expiresAt > now) {
          await enqueue(report, () => queues.revoke(grant.id), "revocationsEnqueued");
        }
      }
      for (const grant of unreleased) {
        if (signal?.aborted) break;
        try {
          // Another worker's sweep may have released it first; then this one did nothing to count.
          if (await revocation.release(grant, signal)) report.released += 1;
        } catch (error) {
          report.releaseFailures += 1;
          log.warn(
            { grantId: grant.id, error: describeFailure(error) },
            "release failed; the next sweep retries",
          );
        }
      }
      const acted = Object.values(report).some((n) => n > 0);
      if (acted) log.info({ ...report }, "reconciliation sweep acted");
      return report;
    },

    /**
     * Expires the grants more than a second past their deadline, and only those: their expiry jobs
     * are lost (a Redis flush, truncated queue tables) or far behind. The worker runs this every
     * second, so after the store lost its jobs grants end within seconds rather than at the next
     * sweep; while the jobs keep time it is one indexed query that finds nothing.
     */
    async expireOverdue(signal?: AbortSignal): Promise<{ expired: number; overdue: number }> {
      const now = clock();
      const report = { expired: 0, overdue: 0, expiryFailures: 0 };
      await expirePastDeadline(now, report, signal, new Date(now.getTime() - OVERDUE_AFTER_MS));
      if (report.expired > 0 || report.expiryFailures > 0) {
        log.info({ ...report, overdueOnly: true }, "reconciliation sweep acted");
      }
      return { expired: report.expired, overdue: report.overdue };
    },
  };
}

export type ReconcileService = ReturnType<typeof createReconcileService>;
