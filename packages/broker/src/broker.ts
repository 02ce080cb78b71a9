import type { Principal } from "@leasehold/domain";
import { createAccessRequestService } from "./access-request-service.js";
import { type CheckpointSetup, createAuditCheckpointService } from "./audit-checkpoint-service.js";
import { createAuditService } from "./audit-service.js";
import { createBreakGlassService } from "./break-glass-service.js";
import type { BrokerDeps } from "./broker-deps.js";
import { createCredentialService } from "./credential-service.js";
import { createDriftService } from "./drift-service.js";
import { createExpiryService, type ExpiryOptions } from "./expiry-service.js";
import { createGrantExtendService } from "./grant-extend-service.js";
import { createGrantHistoryService } from "./grant-history-service.js";
import { createGrantIssueService } from "./grant-issue-service.js";
import { createGrantQueryService } from "./grant-query-service.js";
import { createIncidentGrantService } from "./incident-grants.js";
import { createLeaseService } from "./lease-service.js";
import { createPreApprovalService } from "./pre-approval-service.js";
import {
  createReconcileService,
  DEFAULT_RECONCILE_OPTIONS,
  type ReconcileOptions,
} from "./reconcile-service.js";
import { createReportService } from "./report-service.js";
import { createRequestEscalationService } from "./request-escalation-service.js";
import {
  createResealService,
  DEFAULT_RESEAL_OPTIONS,
  type ResealOptions,
  type ResealScope,
} from "./reseal-service.js";
import { createReviewService } from "./review-service.js";
import { createRevocationService } from "./revocation-service.js";
import { createRotationOverdueCheck } from "./rotation-alerts.js";
import { listRotations } from "./rotation-list.js";
import { createRotationService, type RotationSetup } from "./rotation-service.js";
import { createTargetQueryService } from "./target-query-service.js";
import { createWebSessionService } from "./web-session-service.js";

export type { RotationSetup } from "./rotation-service.js";

export type BrokerOptions = {
  readonly reconcile?: ReconcileOptions;
  readonly expiry?: ExpiryOptions;
  /** Absent when leasehold.yaml configures no rotations (nor vault.appRole.rotateSecretId): none then. */
  readonly rotation?: RotationSetup;
  /** The key and schedule of the audit trail's signed checkpoints; absent: none are written. */
  readonly auditCheckpoints?: CheckpointSetup;
  /** Batch sizes of the re-seal after a master key rotation; default DEFAULT_RESEAL_OPTIONS. */
  readonly reseal?: ResealOptions;
  /** What else the re-seal moves: Leasehold's stored Vault secret ids, bound to its AppRole role id. */
  readonly resealScope?: ResealScope;
};

/**
 * Every use case, wired over one set of dependencies, named as the API names them: the tRPC
 * procedure `grants.extend` calls `grants.extend` here. The worker's jobs call the use cases of the
 * same nouns (`grants.issue`, `grants.expire`, `grants.finishRevoke`, `rotations.execute`).
 */
export function createBroker(deps: BrokerDeps, options: BrokerOptions = {}) {
  const requests = createAccessRequestService(deps);
  const breakGlass = createBreakGlassService(deps);
  const issue = createGrantIssueService(deps);
  const credentials = createCredentialService(deps);
  const extension = createGrantExtendService(deps);
  const revocation = createRevocationService(deps);
  const expiry = createExpiryService(deps, options.expiry);
  const query = createGrantQueryService(deps);
  const leases = createLeaseService({ ...deps, issue });
  const incidents = createIncidentGrantService(deps);
  const history = createGrantHistoryService(deps);
  const rotationDeps = { ...deps, setup: options.rotation };
  return {
    targets: createTargetQueryService(deps),
    requests: {
      ...requests,
      breakGlass: breakGlass.breakGlass,
      reviewBreakGlass: breakGlass.reviewBreakGlass,
      openBreakGlass: breakGlass.openBreakGlass,
      /** The requester's earlier grants on the request's target, for its reviewers. */
      history: history.requestHistory,
    },
    reviews: createReviewService(deps),
    grants: {
      get: query.get,
      list: query.list,
      timeline: history.timeline,
      revocationDebt: history.revocationDebt,
      credentials: credentials.credentials,
      extend: extension.extend,
      revoke: revocation.revoke,
      /** The worker's jobs and the sweep. */
      issue: issue.issue,
      expire: expiry.expire,
      finishRevoke: revocation.finishRevoke,
      release: revocation.release,
      /** A provider's webhook said an incident resolved: the grants resting on it end. */
      incidentResolved: incidents.incidentResolved,
    },
    leases: { create: leases.create, renew: extension.renew },
    /** Windows in which a person's requests for a target are auto-approved (issue 13). */
    preApprovals: createPreApprovalService(deps),
    rotations: {
      ...createRotationService(rotationDeps),
      list: (principal: Principal) => listRotations(rotationDeps, principal),
      /** The worker's sweep: rotations with no success for two periods of their schedule. */
      checkOverdue: createRotationOverdueCheck(rotationDeps).checkOverdue,
    },
    audit: {
      ...createAuditService(deps),
      ...createAuditCheckpointService(deps, options.auditCheckpoints),
    },
    /** Access reports from the verified audit trail (admins and auditors). */
    reports: createReportService(deps),
    /** The console's sign-in sessions: the API's edge keeps them; admins list and revoke them. */
    sessions: createWebSessionService(deps),
    reconcile: createReconcileService({
      ...deps,
      issue,
      requests,
      escalation: createRequestEscalationService(deps),
      incidents,
      expiry,
      revocation,
      ...(options.reconcile ? { options: options.reconcile } : {}),
    }),
    /** After a master key rotation: what is sealed under a previous key, moved to the current one (the worker's sweep). */
    reseal: createResealService(deps, options.reseal ?? DEFAULT_RESEAL_OPTIONS, options.resealScope),
    /** Backends compared with the database: what no grant owns is removed (run by the worker's sweep). */
    drift: createDriftService({
      ...deps,
      options: { releaseAfterSeconds: (options.reconcile ?? DEFAULT_RECONCILE_OPTIONS).releaseAfterSeconds },
    }),
  };
}

export type Broker = ReturnType<typeof createBroker>;
/** The grant use cases, for edges that take only those. */
export type GrantUseCases = Broker["grants"];
