import { setTimeout as sleep } from "node:timers/promises";
import {
  ConflictError,
  type CreateLeaseInput,
  type Grant,
  NotFoundError,
  newGrant,
  type Principal,
  resolveLeaseTtl,
} from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { capsOrDefault, checkLeaseCaps } from "./caps.js";
import type { DeliveredCredential } from "./credential-service.js";
import { isRetryable } from "./failures.js";
import type { GrantIssueService } from "./grant-issue-service.js";
import { decideLease, refusal } from "./policy-checks.js";

/** Tries of one lease inside the caller's request, and the first pause between them (then ×4). */
const LEASE_ISSUE_ATTEMPTS = 3;
const LEASE_RETRY_BASE_MS = 100;

type Deps = Pick<BrokerDeps, "store" | "targets" | "clock" | "newId" | "log" | "caps" | "policy"> & {
  issue: Pick<GrantIssueService, "issueLease">;
};

/**
 * Workloads lease credentials without a human: the lease rule in leasehold.yaml is the approval. A
 * lease is a grant without a request, so expiry, the sweep, revocation and audit are the same as for
 * people. It is issued in the caller's request (an application is waiting for it); if that fails, the
 * grant is marked failed and the caller may simply ask again.
 */
export function createLeaseService(deps: Deps) {
  const { store, targets, clock, newId, log, issue, caps } = deps;
  const limits = capsOrDefault(caps);
  /**
   * A few quick tries inside the caller's request, because the caller is waiting and transient upstream
   * trouble is common: two GRANTs on one table at once fail with "tuple concurrently updated" (Vault
   * answers that as a 500), Vault and STS throttle. Each try is a new issue attempt, which first cleans
   * up what the previous one may have created. A refusal, or the last try's failure, marks the grant
   * failed, so a failed lease never lingers. The first try's attempt was counted when the lease was
   * created.
   */
  async function issueWithRetries(grant: Grant, holder: Principal): Promise<DeliveredCredential | undefined> {
    for (let attempt = 1; ; attempt++) {
      const isLast = attempt === LEASE_ISSUE_ATTEMPTS;
      try {
        return await issue.issueLease(grant, holder, { isLast, counted: attempt === 1 });
      } catch (error) {
        if (isLast || !isRetryable(error)) throw error;
        await sleep(LEASE_RETRY_BASE_MS * 4 ** (attempt - 1) * (0.5 + Math.random()));
      }
    }
  }

  return {
    async create(
      principal: Principal,
      input: CreateLeaseInput,
    ): Promise<{ grant: Grant; credential: DeliveredCredential }> {
      const target = targets.get(input.targetId);
      if (!target) throw new NotFoundError(`there is no target called ${input.targetId}`);
      const asked = input.ttlSeconds ?? target.defaultDurationSeconds;
      const { decision, rule } = decideLease(deps, principal, target, asked);
      if (!rule) throw refusal(`${principal.id} may not lease ${target.id}`, decision);
      const ttlSeconds = resolveLeaseTtl(target, rule, input.ttlSeconds);
      const now = clock();
      // The first issue attempt is counted in the transaction that creates the lease, committed
      // before the provider is called like any attempt: one commit fewer per lease.
      const grant: Grant = {
        ...newGrant({
          id: newId(),
          requestId: null,
          targetId: target.id,
          principalId: principal.id,
          durationSeconds: ttlSeconds,
          now,
        }),
        issueAttempts: 1,
      };
      await commitAudited(store, now, async (repos, record) => {
        await checkLeaseCaps(repos, limits, principal, { targetId: target.id, rule }, now);
        await repos.grants.insert(grant);
        record({
          actor: principal.id,
          action: "grant.created",
          subjectType: "grant",
          subjectId: grant.id,
          data: {
            targetId: target.id,
            durationSeconds: ttlSeconds,
            lease: true,
            rule: rule.subject,
            policies: [...decision.policies],
          },
        });
      });
      // Delivered (and its read audited) by the transaction that activates the lease.
      const credential = await issueWithRetries(grant, principal);
      if (!credential) throw new ConflictError("the lease could not be issued; ask again");
      log.info(
        {
          grantId: grant.id,
          targetId: target.id,
          principal: principal.id,
          expiresAt: credential.expiresAt.toISOString(),
        },
        "lease issued and its credentials delivered",
      );
      return { grant: credential.grant, credential };
    },
  };
}

export type LeaseService = ReturnType<typeof createLeaseService>;
