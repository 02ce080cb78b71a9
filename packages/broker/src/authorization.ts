import type { AccessRequest, Principal, PrincipalSet, Target } from "@leasehold/domain";
import { isInSet, mayReview, samePrincipalId } from "@leasehold/domain";

export const isAdmin = (principal: Principal, admins: PrincipalSet): boolean =>
  principal.kind === "human" && isInSet(principal, admins);

/** The requester, anyone who may review it (at its escalation level), and admins may see a request. */
export const maySeeRequest = (
  principal: Principal,
  request: AccessRequest,
  target: Target | undefined,
  admins: PrincipalSet,
): boolean =>
  samePrincipalId(principal.id, request.requesterId) ||
  isAdmin(principal, admins) ||
  (target !== undefined && mayReview(principal, target, request.requesterId, request.escalationLevel));
