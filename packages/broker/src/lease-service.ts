import {
  assertMayLease,
  ConflictError,
  type CreateLeaseInput,
  type Grant,
  NotFoundError,
  type Principal,
  resolveLeaseTtl,
} from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import type { CredentialService, DeliveredCredential } from "./credential-service.js";
import type { GrantIssueService } from "./grant-issue-service.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "clock" | "newId" | "log"> & {
  issue: Pick<GrantIssueService, "issue">;
  credentials: Pick<CredentialService, "getCredentials">;
};

/**
 * Workloads lease credentials without a human: the lease rule in leasehold.yaml is the approval. A
 * lease is a grant without a request, so expiry, the sweep, revocation and audit are the same as for
 * people. It is issued in the caller's request (an application is waiting for it); if that fails, the
 * grant is marked failed and the caller may simply ask again.
 */
export function createLeaseService({ store, targets, clock, newId, log, issue, credentials }: Deps) {
  return {
    async create(
      principal: Principal,
      input: CreateLeaseInput,
    ): Promise<{ grant: Grant; credential: DeliveredCredential }> {
      const target = targets.get(input.targetId);
      if (!target) throw new NotFoundError(`there is no target called ${input.targetId}`);
      const rule = assertMayLease(principal, target);
      const ttlSeconds = resolveLeaseTtl(target, rule, input.ttlSeconds);
      const now = clock();
      const grant: Grant = {
        id: newId(),
        requestId: null,
        targetId: target.id,
        principalId: principal.id,
        state: "issuing",
        durationSeconds: ttlSeconds,
        createdAt: now,
        issuedAt: null,
        expiresAt: null,
        endedAt: null,
        providerRef: null,
        issueAttempts: 0,
        lastError: null,
      };
      await store.transaction(async (repos) => {
        await repos.grants.insert(grant);
        await repos.audit.append(
          {
            actor: principal.id,
            action: "grant.created",
            subjectType: "grant",
            subjectId: grant.id,
            data: { targetId: target.id, durationSeconds: ttlSeconds, lease: true, rule: rule.subject },
          },
          now,
        );
      });
      // One try, now: retrying is the caller's choice, and a failed lease must not linger.
      if ((await issue.issue(grant.id, { isLast: true })) !== "issued") {
        throw new ConflictError("the lease could not be issued; ask again");
      }
      const credential = await credentials.getCredentials(principal, grant.id);
      const issued = await store.read((repos) => repos.grants.findById(grant.id));
      log.info({ grantId: grant.id, targetId: target.id, principal: principal.id }, "lease issued");
      return { grant: issued ?? grant, credential };
    },
  };
}

export type LeaseService = ReturnType<typeof createLeaseService>;
