import type { BegunAttempt, Repositories } from "@leasehold/db";
import {
  addSeconds,
  type Grant,
  grantTransition,
  noMetrics,
  type Principal,
  SYSTEM_ACTOR,
  type Target,
  UpstreamError,
} from "@leasehold/domain";
import type { Credential, IssuedCredential } from "@leasehold/providers";
import {
  type ApprovalRows,
  approvalContextFor,
  approvalContextOf,
  readApprovalRows,
} from "./approval-context.js";
import {
  type Record as AuditRecord,
  commitAudited,
  commitGrantStep,
  moveSealedGrant,
} from "./audited-change.js";
import type { Attempt, BrokerDeps } from "./broker-deps.js";
import { grantBinding } from "./credential-cipher.js";
import {
  assertDeliverable,
  credentialsRead,
  type DeliveredCredential,
  delivered,
} from "./credential-service.js";
import { describeFailure, isRetryable } from "./failures.js";
import { assertProvenance, assertSealed, type GrantTrail, readGrantTrail } from "./grant-provenance.js";

type Deps = Pick<
  BrokerDeps,
  "store" | "targets" | "providers" | "queues" | "cipher" | "clock" | "log" | "metrics" | "policy"
>;

/**
 * Issues an approved grant (the worker's issue job). Idempotent and crash-safe (invariant 4):
 * - each attempt is counted and committed before the provider is called;
 * - a retry first makes credentials from earlier, interrupted attempts unusable;
 * - only the latest attempt may move the grant to active, so at most one credential is delivered.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose helpers (fail, wait, issue) share the dependencies it closes over; each is short.
export function createGrantIssueService(deps: Deps) {
  const { store, targets, providers, queues, cipher, clock, log } = deps;
  const metrics = deps.metrics ?? noMetrics;
  /**
   * Ends a grant that could not be issued. `attemptInFlight`: its latest attempt may still be creating a
   * credential (it stalled rather than failed), so, like earlier interrupted attempts, what it creates is
   * denied and released only after the grant's duration; and a later attempt that started meanwhile wins.
   */
  const fail = async (grant: Grant, error: unknown, attemptInFlight = false) => {
    const now = clock();
    const reason = describeFailure(error);
    const failed = await commitGrantStep(store, grant.id, {
      event: "issue-failed",
      at: now,
      changes: {
        endedAt: now,
        lastError: reason,
        // Credentials from interrupted attempts live at most the grant's duration; keep their deny until then.
        ...(grant.issueAttempts > 1 || attemptInFlight
          ? { expiresAt: new Date(now.getTime() + grant.durationSeconds * 1000) }
          : { releasedAt: now }),
      },
      ...(attemptInFlight ? { issueAttempts: grant.issueAttempts } : {}),
      actor: SYSTEM_ACTOR.worker,
      data: { error: reason, attempts: grant.issueAttempts },
    });
    if (failed) log.error({ grantId: grant.id, error: reason }, "grant could not be issued");
  };

  /**
   * Until when a grant whose attempt failed in a way a retry can fix may keep waiting, or undefined
   * when it may not. An approved request's grant waits out its target's issue window: the people who
   * approved it are not asked again because a backend was down for a while (the sweep queues it again
   * after its job's retries). A lease's caller is waiting for the answer, so a lease fails on its last
   * try.
   */
  const mayWaitUntil = (grant: Grant, target: Target, attempt: Attempt): Date | undefined => {
    if (grant.requestId === null) return attempt.isLast ? undefined : clock();
    const until = addSeconds(grant.createdAt, target.issueWindowSeconds);
    return clock() < until ? until : undefined;
  };

  /**
   * Keeps the grant issuing and says why, for the requester. An attempt that provably never reached
   * the backend gives its number back: it created nothing, so nothing of it needs denying.
   */
  const waitToRetry = async (grant: Grant, error: unknown, until: Date) => {
    const reason = describeFailure(error);
    const neverReached = error instanceof UpstreamError && !error.mayHaveReached;
    await store.transaction((repos) =>
      repos.grants.recordIssueWait(
        grant.id,
        grant.issueAttempts,
        grant.requestId === null ? reason : `${reason}; retrying until ${until.toISOString()}`,
        clock(),
        { giveBackAttempt: neverReached },
      ),
    );
    log.warn({ grantId: grant.id, error: reason, neverReached }, "issue attempt failed; will retry");
  };

  return {
    /**
     * A lease still issuing after the sweep's stall limit. Its only recipient is the API call that
     * created it (which died, or fell far behind), so it is failed rather than issued again by a worker:
     * a credential issued to nobody would stay live until its deadline. A call that is merely slow then
     * finds the lease failed and tells its caller to ask again.
     */
    async abandonStalledLease(grant: Grant): Promise<void> {
      if (grant.requestId !== null || grant.state !== "issuing") return;
      await fail(grant, new Error("the lease's issue stalled: its API call ended or fell behind"), true);
    },

    /** Begins a new issue attempt of the grant (the worker's issue job) and makes it. */
    async issue(grantId: string, attempt: Attempt): Promise<"issued" | "skipped"> {
      const begun = await beginAttempt(grantId);
      if (!begun) return "skipped"; // already issued, failed, or unknown: nothing to do
      return (await makeAttempt(begun.grant, attempt, { readBack: begun })) ? "issued" : "skipped";
    },

    /**
     * A lease's issue in the API call that created it: the activation also hands the credential to
     * `holder`, audited in the same transaction, so it is not read back in another. `counted`: the
     * lease's first attempt was counted in the transaction that created it (leases.create), and
     * `grant` is the grant that transaction wrote; otherwise a new attempt is begun here. Returns the
     * delivered credential, or undefined when skipped (the lease ended meanwhile).
     */
    async issueLease(
      grant: Grant,
      holder: Principal,
      attempt: Attempt & { readonly counted: boolean },
    ): Promise<DeliveredCredential | undefined> {
      const readBack = attempt.counted ? undefined : await beginAttempt(grant.id);
      if (!attempt.counted && !readBack) return undefined;
      const issued = await makeAttempt(readBack?.grant ?? grant, attempt, { readBack, holder });
      if (!issued?.delivery) return undefined;
      // The activation committed either way; a refused delivery leaves the lease active, unread.
      if (issued.delivery.refused) throw issued.delivery.reason;
      return delivered(issued.grant, issued.secret);
    },
  };

  /**
   * Counts and commits one more issue attempt, and reads what the attempt is judged on; undefined
   * when the grant is not issuing.
   *
   * The reads go out in the count's transaction, once the count has answered (they need the request
   * the counted row names), together with its re-seal: one round trip on the transaction's own
   * connection, then the COMMIT. Read after the commit on pooled connections, as they were, they took
   * one more round trip (two when the provenance read the request's events after the grant's) on up
   * to five connections. Sent on pooled connections while the count commits, they were no faster in
   * paired runs than here: the connections cost what the round trip saves, and one connection per
   * job leaves the pool to the others. They read rows the count does not change, so they read the
   * same; one that fails rolls the count back with it, before anything was called.
   */
  async function beginAttempt(grantId: string): Promise<BegunAttempt<IssueReads> | undefined> {
    const startedAt = clock();
    return store.transaction((repos) =>
      repos.grants.beginIssueAttempt(grantId, startedAt, grantTransition("issued").from, (grant) =>
        readForIssue(repos, grant),
      ),
    );
  }

  /**
   * Makes the attempt `grant.issueAttempts`, counted and committed already, and activates the grant
   * with its credential. `readBack`: the grant was read from the database (by `beginAttempt`), so its
   * row must have matched its MAC and the audit trail before anything is issued; a lease's first
   * attempt issues the grant its own creating transaction wrote (with its audit event), so nothing
   * read needs checking. `holder`: also deliver the credential to them in the activating transaction.
   * Returns the active grant, or undefined when a later attempt took over or the grant ended meanwhile.
   */
  async function makeAttempt(
    grant: Grant,
    attempt: Attempt,
    options: { readBack?: BegunAttempt<IssueReads> | undefined; holder?: Principal | undefined },
  ): Promise<Activation | undefined> {
    const grantId = grant.id;
    const target = targets.get(grant.targetId);
    if (!target) {
      await fail(grant, new Error(`target ${grant.targetId} is no longer configured`));
      return undefined;
    }
    const provider = providers.get(target.kind);
    try {
      // Judged in the order the checks were once made, one after another: the seal (as the count
      // found the row, before it re-sealed it), the provenance, then, after discarding earlier
      // attempts' sessions, the approval.
      const { readBack } = options;
      if (readBack) {
        assertSealed(log, grant, readBack.sealed, "issued");
        assertProvenance(readBack.read.trail, grant);
      }
      if (grant.issueAttempts > 1) {
        await provider.discardEarlierAttempts({ grant, target, signal: attempt.signal });
      }
      const approval = readBack
        ? approvalContextOf(grant, readBack.read.approval, readBack.read.trail.request)
        : await approvalContextFor(store, grant);
      const calledAt = clock().getTime();
      const issued = await provider.issue({
        grant,
        target,
        approval,
        checkpoint: (reference) =>
          store.transaction((r) => r.grants.updateReference(grant.id, reference, clock())),
        signal: attempt.signal,
      });
      const now = clock();
      metrics.grantIssued(target.kind, (now.getTime() - calledAt) / 1000);
      const active = await commitAudited(store, now, (repos, record) =>
        activate(repos, record, grant, issued, now, options.holder),
      );
      if (!active) {
        // A later attempt started meanwhile (this worker stalled); that attempt discards this credential.
        log.warn(
          { grantId, attempt: grant.issueAttempts },
          "a later issue attempt took over; result dropped",
        );
        return undefined;
      }
      await queues.expireAt(grant.id, active.grant.expiresAt, clock()).catch((error: unknown) => {
        log.warn({ grantId, err: String(error) }, "could not schedule expiry; the sweep will expire it");
      });
      // A lease logs one line, its API call's (leases.create), which says this too: each line costs CPU.
      if (!options.holder) {
        log.info({ grantId, expiresAt: active.grant.expiresAt.toISOString() }, "grant issued");
      }
      return active;
    } catch (error) {
      const waitUntil = mayWaitUntil(grant, target, attempt);
      if (!isRetryable(error) || waitUntil === undefined) {
        await fail(grant, error);
      } else {
        await waitToRetry(grant, error, waitUntil);
      }
      throw error;
    }
  }

  /**
   * Moves the grant to active with its sealed credential, if this is still its latest attempt. With a
   * `holder`, also hands them the credential: the read is audited here, and a refusal (the row changed
   * outside Leasehold, the lease rule no longer matching) is returned rather than thrown, so that the
   * activation still commits and the credential ends at its deadline like any other.
   */
  async function activate(
    repos: Repositories,
    record: AuditRecord,
    grant: Grant,
    issued: IssuedCredential,
    now: Date,
    holder: Principal | undefined,
  ): Promise<Activation | undefined> {
    const moved = await moveSealedGrant(repos, record, grant.id, {
      event: "issued",
      at: now,
      changes: {
        issuedAt: now,
        expiresAt: issued.expiresAt,
        providerRef: { ...issued.reference },
        credential: cipher.seal(grantBinding(grant), issued.secret),
        lastError: null,
      },
      // Only the latest attempt may activate the grant.
      issueAttempts: grant.issueAttempts,
      actor: SYSTEM_ACTOR.worker,
      data: {
        expiresAt: issued.expiresAt.toISOString(),
        attempt: grant.issueAttempts,
        reference: { ...issued.reference },
      },
    });
    if (!moved) return undefined;
    const active = { ...moved.grant, expiresAt: issued.expiresAt };
    if (!holder) return { grant: active, secret: issued.secret };
    try {
      assertDeliverable(deps, holder, moved.grant, moved.sealed, now);
    } catch (reason) {
      return { grant: active, secret: issued.secret, delivery: { refused: true, reason } };
    }
    record(credentialsRead(holder, grant.id));
    return { grant: active, secret: issued.secret, delivery: { refused: false } };
  }
}

/** An activated grant, its credential, and, when it was to be delivered in the activation, whether it was. */
type Activation = {
  readonly grant: Grant & { readonly expiresAt: Date };
  readonly secret: Credential;
  readonly delivery?: { readonly refused: false } | { readonly refused: true; readonly reason: unknown };
};

/** What an issue attempt of a grant read from the database is judged on: its audit trail and approval. */
type IssueReads = { readonly trail: GrantTrail; readonly approval: ApprovalRows | null };

/** Reads what an issue attempt is judged on; the reads go out together. */
async function readForIssue(repos: Repositories, grant: Grant): Promise<IssueReads> {
  const [trail, approval] = await Promise.all([readGrantTrail(repos, grant), readApprovalRows(repos, grant)]);
  return { trail, approval };
}

export type GrantIssueService = ReturnType<typeof createGrantIssueService>;
