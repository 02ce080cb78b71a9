import { createAccessRequestService } from "./access-request-service.js";
import { createAuditService } from "./audit-service.js";
import type { BrokerDeps } from "./broker-deps.js";
import { createCredentialService } from "./credential-service.js";
import { createGrantEndService } from "./grant-end-service.js";
import { createGrantExtendService } from "./grant-extend-service.js";
import { createGrantIssueService } from "./grant-issue-service.js";
import { createGrantQueryService } from "./grant-query-service.js";
import { createLeaseService } from "./lease-service.js";
import { createReconcileService, type ReconcileOptions } from "./reconcile-service.js";
import { createReviewService } from "./review-service.js";
import { createRotationService, type RotationSetup } from "./rotation-service.js";

export type { RotationSetup } from "./rotation-service.js";

/** Every use case, wired over one set of dependencies. Apps build this once in main.ts. */
export function createBroker(
  deps: BrokerDeps,
  options: { reconcile?: ReconcileOptions; rotation?: RotationSetup } = {},
) {
  const requests = createAccessRequestService(deps);
  const grantEnd = createGrantEndService(deps);
  const issue = createGrantIssueService(deps);
  const credentials = createCredentialService(deps);
  return {
    requests,
    reviews: createReviewService(deps),
    issue,
    grantEnd,
    extend: createGrantExtendService(deps),
    credentials,
    leases: createLeaseService({ ...deps, issue, credentials }),
    rotations: createRotationService({ ...deps, setup: options.rotation }),
    grants: createGrantQueryService(deps),
    audit: createAuditService(deps),
    reconcile: createReconcileService({
      ...deps,
      requests,
      grantEnd,
      ...(options.reconcile ? { options: options.reconcile } : {}),
    }),
  };
}

export type Broker = ReturnType<typeof createBroker>;
