import type { AccessRequest, Principal, Review, Target } from "@leasehold/domain";
import { samePrincipalId } from "@leasehold/domain";
import { decideApprove, mayReadAudit, type PolicyDeps } from "./policy-checks.js";

/** The requester, anyone who may approve it, and whoever may read the audit trail may see a request. */
export const maySeeRequest = (
  deps: PolicyDeps,
  principal: Principal,
  request: AccessRequest,
  reviews: readonly Review[],
  target: Target | undefined,
): boolean =>
  samePrincipalId(principal.id, request.requesterId) ||
  mayReadAudit(deps, principal) ||
  (target !== undefined && decideApprove(deps, principal, target, request, reviews).allowed);
