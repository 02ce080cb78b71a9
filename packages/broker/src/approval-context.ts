import type { Store } from "@leasehold/db";
import { type Grant, tallyReviews, UpstreamError } from "@leasehold/domain";
import type { ApprovalContext } from "@leasehold/providers";

/** The approval behind a grant, for the provider's session tags; null for grants without a request. */
export async function approvalContextFor(store: Store, grant: Grant): Promise<ApprovalContext | null> {
  const requestId = grant.requestId;
  if (requestId === null) return null;
  const [request, reviews] = await store.read((repos) =>
    Promise.all([repos.requests.findById(requestId), repos.requests.listReviews(requestId)]),
  );
  if (!request)
    throw new UpstreamError(`request ${requestId} of grant ${grant.id} is missing`, { retryable: false });
  const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
  return { requestId, ticket: request.ticket, approvers: tally.approvers };
}
