import {
  type AccessRequest,
  authenticationRecord,
  ConflictError,
  type Grant,
  NotFoundError,
  newGrant,
  nextRequestState,
  type Principal,
  type Review,
  type ReviewInput,
  samePrincipalId,
  tallyReviews,
} from "@leasehold/domain";
import type { RequestView } from "./access-request-service.js";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { assertMayReview, assertSteppedUp } from "./policy-checks.js";

export type ReviewResult = RequestView & {
  /** The grant created by the final approval; null otherwise. */
  readonly grant: Grant | null;
};

type Deps = Pick<BrokerDeps, "store" | "targets" | "queues" | "clock" | "newId" | "log" | "policy">;

/**
 * Approve or deny. The request row is locked for the whole decision, so two reviewers racing to
 * give the final approval are serialized: one creates the grant, the other finds the request no
 * longer pending (invariant 2). The grant's unique request id makes a second grant impossible even so.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose methods share the dependencies it closes over; each method is short.
export function createReviewService(deps: Deps) {
  const { store, targets, queues, clock, newId, log } = deps;
  /**
   * The checks every review passes first: an eligible reviewer (the policies that allowed it are
   * returned, with the target), and a request still open.
   */
  const assertOpenFor = (
    principal: Principal,
    request: AccessRequest,
    reviews: readonly Review[],
    now: Date,
  ) => {
    const target = targets.get(request.targetId);
    if (!target) throw new ConflictError(`target ${request.targetId} is no longer configured`);
    const decision = assertMayReview(deps, principal, target, request, reviews);
    if (request.state !== "pending") throw new ConflictError(`this request is already ${request.state}`);
    if (request.pendingUntil <= now) throw new ConflictError("this request expired before it was decided");
    return { decision, target };
  };

  /**
   * After commit: enqueue. If Redis is unreachable the grant stays "issuing" and the sweep enqueues
   * it again, so the decision is never lost.
   */
  const announce = async (principal: Principal, input: ReviewInput, result: ReviewResult) => {
    const { grant } = result;
    if (grant) {
      await queues.issue(grant.id).catch((error: unknown) => {
        log.warn({ grantId: grant.id, err: String(error) }, "could not enqueue issue; the sweep will retry");
      });
    }
    log.info(
      {
        requestId: input.requestId,
        reviewer: principal.id,
        decision: input.decision,
        state: result.request.state,
      },
      "request reviewed",
    );
  };

  return {
    /**
     * Whether this principal could review the request now: the checks `review` makes, without
     * recording anything. Lets a surface refuse before asking the approver for a denial reason.
     */
    async checkReviewable(principal: Principal, requestId: string): Promise<AccessRequest> {
      const [request, reviews] = await store.read((repos) =>
        Promise.all([repos.requests.findById(requestId), repos.requests.listReviews(requestId)]),
      );
      if (!request) throw new NotFoundError("there is no such request");
      assertOpenFor(principal, request, reviews, clock());
      if (reviews.some((r) => samePrincipalId(r.reviewerId, principal.id))) {
        throw new ConflictError("you have already reviewed this request");
      }
      return request;
    },

    async submit(principal: Principal, input: ReviewInput): Promise<ReviewResult> {
      const now = clock();
      const result = await commitAudited(store, now, async (repos, record): Promise<ReviewResult> => {
        const request = await repos.requests.lockById(input.requestId);
        if (!request) throw new NotFoundError("there is no such request");
        const { decision, target } = assertOpenFor(
          principal,
          request,
          await repos.requests.listReviews(request.id),
          now,
        );
        // A denial needs no fresh sign-in: refusing access can only make things safer.
        if (input.decision === "approve") assertSteppedUp(principal, target, now);

        const review = {
          requestId: request.id,
          reviewerId: principal.id,
          decision: input.decision,
          comment: input.comment ?? null,
          createdAt: now,
        };
        if (!(await repos.requests.insertReview(review))) {
          throw new ConflictError("you have already reviewed this request");
        }
        record({
          actor: principal.id,
          action: "request.reviewed",
          subjectType: "request",
          subjectId: request.id,
          data: {
            decision: input.decision,
            comment: review.comment,
            policies: [...decision.policies],
            authentication: authenticationRecord(principal.authentication),
          },
        });

        const reviews = await repos.requests.listReviews(request.id);
        const tally = tallyReviews(reviews, request.requesterId, request.requiredApprovals);
        if (tally.outcome === "pending") return { request, reviews, tally, grant: null };

        const state = nextRequestState(
          request.state,
          tally.outcome === "approved" ? "final-approval" : "deny",
        );
        if (state !== "approved" && state !== "denied") throw new Error(`unexpected request state ${state}`);
        await repos.requests.decide(request.id, state, now);
        record({
          actor: principal.id,
          subjectType: "request",
          subjectId: request.id,
          ...(state === "approved"
            ? { action: "request.approved", data: { approvers: [...tally.approvers], policies: [] } }
            : { action: "request.denied", data: { deniedBy: tally.deniedBy } }),
        });
        const decided = { ...request, state, decidedAt: now };
        if (state === "denied") return { request: decided, reviews, tally, grant: null };

        const grant = newGrant({
          id: newId(),
          requestId: request.id,
          targetId: request.targetId,
          principalId: request.requesterId,
          durationSeconds: request.durationSeconds,
          now,
        });
        await repos.grants.insert(grant);
        record({
          actor: principal.id,
          action: "grant.created",
          subjectType: "grant",
          subjectId: grant.id,
          data: { requestId: request.id, targetId: grant.targetId, durationSeconds: grant.durationSeconds },
        });
        return { request: decided, reviews, tally, grant };
      });

      await announce(principal, input, result);
      return result;
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
