import type { Repositories, Store } from "@leasehold/db";
import {
  type AccessRequest,
  type AuditEvent,
  ConflictError,
  type Grant,
  type Review,
  readAuditEvent,
  tallyReviews,
  UpstreamError,
} from "@leasehold/domain";
import type { ApprovalContext } from "@leasehold/providers";

/**
 * The approval behind a grant, for the provider's session tags and scopes; null for grants without a
 * request. The scopes decide what is issued but sit on the request row, which the grant's MAC does not
 * cover: they are used only if the request's authentic `request.created` (or `request.break_glass`) audit event names the same
 * ones, so a database writer without the master key cannot widen a grant by editing them.
 */
export async function approvalContextFor(store: Store, grant: Grant): Promise<ApprovalContext | null> {
  const requestId = grant.requestId;
  if (requestId === null) return null;
  const [rows, events] = await store.read((repos) =>
    Promise.all([readApprovalRows(repos, grant), repos.audit.authenticFor(requestId)]),
  );
  return approvalContextOf(grant, rows, events);
}

/** The rows the approval behind a grant is read from: its request, if it still exists, and its reviews. */
export type ApprovalRows = {
  readonly requestId: string;
  readonly request: AccessRequest | undefined;
  readonly reviews: readonly Review[];
};

/** Reads the grant's request and reviews (the two reads go out together); null for a grant without a request. */
export async function readApprovalRows(
  repos: Pick<Repositories, "requests">,
  grant: Grant,
): Promise<ApprovalRows | null> {
  const requestId = grant.requestId;
  if (requestId === null) return null;
  const [request, reviews] = await Promise.all([
    repos.requests.findById(requestId),
    repos.requests.listReviews(requestId),
  ]);
  return { requestId, request, reviews };
}

/**
 * `approvalContextFor` on what was read already: the grant's `rows` (`readApprovalRows`) and its
 * request's authentic audit events (`requestEvents`).
 */
export function approvalContextOf(
  grant: Grant,
  rows: ApprovalRows | null,
  requestEvents: readonly AuditEvent[],
): ApprovalContext | null {
  if (rows === null) return null;
  const { requestId, request, reviews } = rows;
  if (!request)
    throw new UpstreamError(`request ${requestId} of grant ${grant.id} is missing`, { retryable: false });
  const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
  // Asked for as a request, or as a break-glass: either event records the scopes.
  const asked = requestEvents
    .map(readAuditEvent)
    .find((event) => event?.action === "request.created" || event?.action === "request.break_glass");
  const recorded =
    asked?.action === "request.created" || asked?.action === "request.break_glass"
      ? asked.data.scopes
      : undefined;
  if (recorded === undefined || recorded.join("\n") !== request.scopes.join("\n")) {
    throw new ConflictError(
      "this grant's request names scopes the audit trail does not; it was changed outside Leasehold and is not issued",
    );
  }
  return { requestId, ticket: request.ticket, approvers: tally.approvers, scopes: request.scopes };
}
