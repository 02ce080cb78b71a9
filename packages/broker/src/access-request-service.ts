import { isUniqueViolation } from "@leasehold/db";
import {
  type AccessRequest,
  ConflictError,
  ForbiddenError,
  type Grant,
  InvalidRequestError,
  NotFoundError,
  newPendingRequest,
  nextRequestState,
  type Principal,
  type RequestAccessInput,
  type Review,
  resolveDuration,
  resolveRequestedScopes,
  resolveTicket,
  SYSTEM_ACTOR,
  samePrincipalId,
  type Tally,
  tallyReviews,
} from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import { maySeeRequest } from "./authorization.js";
import { type AutoApproval, approveByPolicy, askingFacts, describeAutoApproval } from "./auto-approval.js";
import type { BrokerDeps } from "./broker-deps.js";
import { capsOrDefault, checkRequestCaps } from "./caps.js";
import { decideApprove, decideAsking, refusal, requestDetails } from "./policy-checks.js";

/** A request with its reviews and where the approval count stands. */
export type RequestView = {
  readonly request: AccessRequest;
  readonly reviews: readonly Review[];
  readonly tally: Tally;
};

/** A new request, and how approval by policy went for it. */
export type CreatedRequest = RequestView & { readonly autoApproval: AutoApproval };

type Deps = Pick<
  BrokerDeps,
  "store" | "targets" | "providers" | "clock" | "newId" | "policy" | "log" | "caps" | "queues" | "onCall"
>;

/** Pending requests read to find those one approver may review: the policies decide per request. */
const REVIEWABLE_SCAN = 1000;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose methods share the dependencies it closes over; each method is short.
export function createAccessRequestService(deps: Deps) {
  const { store, targets, providers, clock, newId, log, caps } = deps;
  const limits = capsOrDefault(caps);
  const view = async (request: AccessRequest): Promise<RequestView> => {
    const reviews = await store.read((repos) => repos.requests.listReviews(request.id));
    return { request, reviews, tally: tallyReviews(reviews, request.requesterId, request.requiredApprovals) };
  };

  /** A new request as its requester hears of it; approved by policy, its grant's issue is queued. */
  const answer = async (request: AccessRequest, grant: Grant | null, autoApproval: AutoApproval) => {
    if (!grant) {
      const tally = tallyReviews([], request.requesterId, request.requiredApprovals);
      return { request, reviews: [], tally, autoApproval };
    }
    // After commit, as for a final approval: a lost enqueue is made good by the sweep.
    await deps.queues.issue(grant.id).catch((error: unknown) => {
      log.warn({ grantId: grant.id, err: String(error) }, "could not enqueue issue; the sweep will retry");
    });
    log.info({ requestId: request.id, policies: autoApproval?.policies }, "request approved by policy");
    const approved = { ...request, state: "approved" as const, decidedAt: grant.createdAt };
    return { request: approved, reviews: [], tally: tallyReviews([], request.requesterId, 0), autoApproval };
  };

  return {
    /**
     * Asks for access to a target. Refused before anything is recorded if policy does not allow it;
     * approved at once, by policy, when an AutoApprove policy allows it (auto-approval.ts).
     */
    async create(principal: Principal, input: RequestAccessInput): Promise<CreatedRequest> {
      const target = targets.get(input.targetId);
      if (!target) throw new NotFoundError(`there is no target called ${input.targetId}`);
      const durationSeconds = resolveDuration(target, input.durationSeconds);
      const ticket = resolveTicket(target, input.ticket);
      const now = clock();
      // The on-call provider is asked before the transaction opens (invariant 8).
      const facts = await askingFacts(deps, principal, target, now);
      const asking = {
        request: requestDetails(target, {
          durationSeconds,
          ticket,
          reason: input.reason,
          scopes: input.scopes ?? [],
        }),
        onCall: facts.onCall,
        incidents: facts.incidents,
      };
      const decision = decideAsking(deps, "Request", principal, target, asking);
      if (!decision.allowed) throw refusal(`you may not request ${target.id}`, decision);
      // After the policy: someone who may not request the target does not learn its scopes.
      const scopes = resolveRequestedScopes(target, input.scopes);
      // No scopes, nothing to fit: the target's own policy is issued as it is.
      const scopeProblem =
        scopes.length > 0 ? providers.get(target.kind).scopeProblem?.({ target, scopes }) : undefined;
      if (scopeProblem) throw new InvalidRequestError(scopeProblem);
      const auto = decideAsking(deps, "AutoApprove", principal, target, {
        ...asking,
        request: { ...asking.request, scopes },
        preApproved: facts.preApproved,
      });
      const request = newPendingRequest(target, {
        id: newId(),
        requesterId: principal.id,
        reason: input.reason,
        ticket,
        durationSeconds,
        scopes,
        now,
      });
      const grant = await commitAudited(store, now, async (repos, record) => {
        await checkRequestCaps(repos, limits, principal, now);
        try {
          await repos.requests.insert(request);
        } catch (error) {
          // One pending request per requester and target (a partial unique index).
          if (isUniqueViolation(error))
            throw new ConflictError(`you already have a pending request for ${target.id}`);
          throw error;
        }
        record({
          actor: principal.id,
          action: "request.created",
          subjectType: "request",
          subjectId: request.id,
          data: {
            targetId: target.id,
            durationSeconds,
            ticket,
            reason: input.reason,
            policies: [...decision.policies],
            scopes,
          },
        });
        if (!auto.allowed) return null;
        return approveByPolicy(repos, record, { request, target, decision: auto, facts, newId, now });
      });
      log.info(
        { requestId: request.id, targetId: target.id, requester: principal.id, scopes },
        "access requested",
      );
      return answer(request, grant, describeAutoApproval(auto, facts, grant, target));
    },

    /** The requester withdraws a pending request. */
    async cancel(principal: Principal, requestId: string): Promise<AccessRequest> {
      const now = clock();
      return commitAudited(store, now, async (repos, record) => {
        const request = await repos.requests.lockById(requestId);
        if (!request) throw new NotFoundError("there is no such request");
        if (!samePrincipalId(request.requesterId, principal.id))
          throw new ForbiddenError("only the requester may cancel a request");
        const state = nextRequestState(request.state, "cancel");
        await repos.requests.decide(request.id, "cancelled", now);
        record({
          actor: principal.id,
          action: "request.cancelled",
          subjectType: "request",
          subjectId: request.id,
          data: {},
        });
        return { ...request, state, decidedAt: now };
      });
    },

    async get(principal: Principal, requestId: string): Promise<RequestView> {
      const [request, reviews] = await store.read((repos) =>
        Promise.all([repos.requests.findById(requestId), repos.requests.listReviews(requestId)]),
      );
      if (!request || !maySeeRequest(deps, principal, request, reviews, targets.get(request.targetId))) {
        throw new NotFoundError("there is no such request, or you may not see it");
      }
      return {
        request,
        reviews,
        tally: tallyReviews(reviews, request.requesterId, request.requiredApprovals),
      };
    },

    /** `mine`: what I asked for, newest first. `to-review`: pending requests I may review, oldest first. */
    async list(
      principal: Principal,
      options: { view: "mine" | "to-review"; limit: number },
    ): Promise<RequestView[]> {
      if (options.view === "mine") {
        const mine = await store.read((repos) => repos.requests.listByRequester(principal.id, options.limit));
        return Promise.all(mine.map(view));
      }
      // Whether someone may approve can depend on the request itself (its duration, its ticket), so
      // the policies decide per pending request, oldest first, over a bounded scan.
      const pending = await store.read((repos) =>
        repos.requests.listPending(
          targets.list().map((t) => t.id),
          REVIEWABLE_SCAN,
        ),
      );
      const now = clock();
      const forMe: RequestView[] = [];
      for (const request of pending) {
        if (forMe.length >= options.limit) break;
        const target = targets.get(request.targetId);
        if (!target || samePrincipalId(request.requesterId, principal.id) || request.pendingUntil <= now)
          continue;
        const current = await view(request);
        if (decideApprove(deps, principal, target, request, current.reviews).allowed) forMe.push(current);
      }
      return forMe;
    },

    /** Marks pending requests whose approval window closed as expired (run by the sweep). */
    async expireTimedOut(limit: number): Promise<number> {
      const now = clock();
      const due = await store.read((repos) => repos.requests.listTimedOut(now, limit));
      let expired = 0;
      for (const request of due) {
        const changed = await commitAudited(store, now, async (repos, record) => {
          if (!(await repos.requests.decide(request.id, "expired", now))) return false;
          record({
            actor: SYSTEM_ACTOR.sweep,
            action: "request.expired",
            subjectType: "request",
            subjectId: request.id,
            data: { pendingUntil: request.pendingUntil.toISOString() },
          });
          return true;
        });
        if (changed) expired += 1;
      }
      return expired;
    },
  };
}

export type AccessRequestService = ReturnType<typeof createAccessRequestService>;
