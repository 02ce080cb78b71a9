import {
  type AccessRequest,
  authenticationRecord,
  type BreakGlassInput,
  type BreakGlassReview,
  breakGlassInput,
  ConflictError,
  ForbiddenError,
  type Grant,
  InvalidRequestError,
  NotFoundError,
  newGrant,
  newPendingRequest,
  type Principal,
  type ReviewBreakGlassInput,
  resolveBreakGlassDuration,
  resolveRequestedScopes,
  resolveTicket,
  reviewBreakGlassInput,
  samePrincipalId,
  type Target,
} from "@leasehold/domain";
import type { z } from "zod";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { capsOrDefault, checkRequestCaps } from "./caps.js";
import {
  assertSteppedUp,
  decideApprove,
  decideAsking,
  mayReadAudit,
  refusal,
  requestDetails,
} from "./policy-checks.js";

/** A break-glass and the grant it created. */
export type BreakGlassResult = { readonly request: AccessRequest; readonly grant: Grant };

/** A break-glass as an open item: the request and its review, if any. */
export type BreakGlassItem = { readonly request: AccessRequest; readonly review: BreakGlassReview | null };

/** Open break-glass items: those the caller may review, and the caller's own that blocks the next. */
export type OpenBreakGlass = {
  readonly toReview: readonly BreakGlassItem[];
  readonly mine: BreakGlassItem | null;
};

type Deps = Pick<BrokerDeps, "store" | "targets" | "queues" | "clock" | "newId" | "policy" | "log" | "caps">;

/** Unreviewed break-glasses read to find those one approver may review: the policies decide per item. */
const OPEN_SCAN = 1000;

/** Parses again what an edge should already have parsed: the use case never trusts a caller's shape. */
function parsed<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new InvalidRequestError(result.error.issues.map((i) => i.message).join("; "));
  return result.data;
}

/** The advice of a refusal no policy explained. */
const askInstead = (targetId: string) =>
  `break-glass on ${targetId} is only for the people its breakGlass.allowed names; ask for access with approval instead (leasehold request ${targetId})`;

/** Why this person may not break glass now, or nothing. Runs under the person's lock. */
function blockedBecause(blocking: { request: AccessRequest; reviewed: boolean; grantState: string | null }) {
  const { request } = blocking;
  if (!blocking.reviewed) {
    return `your break-glass on ${request.targetId} (${request.id}) has not been reviewed yet; an approver of ${request.targetId} must mark it justified or unjustified before you can break glass again`;
  }
  return `your break-glass on ${request.targetId} (${request.id}) is still active (${blocking.grantState}); at most one break-glass at a time: revoke it or wait for it to end`;
}

/**
 * Break-glass: access activated with no approver, for a person policy allows (`BreakGlass`). The
 * request (approved as it is made) and its grant commit in one transaction with their audit events,
 * under the person's lock, after checking that they hold no break-glass that is live or unreviewed.
 * The broadcast comes from the audit event (notifications), so no policy can switch it off.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose methods share the dependencies it closes over; each method is short.
export function createBreakGlassService(deps: Deps) {
  const { store, targets, queues, clock, newId, log, caps } = deps;
  const limits = capsOrDefault(caps);

  const targetOf = (targetId: string): Target => {
    const target = targets.get(targetId);
    if (!target) throw new NotFoundError(`there is no target called ${targetId}`);
    return target;
  };

  return {
    /** Activates access to a target without approval. Refused, recording nothing, unless policy allows it. */
    async breakGlass(principal: Principal, raw: BreakGlassInput): Promise<BreakGlassResult> {
      const input = parsed(breakGlassInput, raw);
      const target = targetOf(input.targetId);
      const durationSeconds = resolveBreakGlassDuration(target, input.durationSeconds);
      const ticket = resolveTicket(target, input.ticket);
      const decision = decideAsking(deps, "BreakGlass", principal, target, {
        request: requestDetails(target, { durationSeconds, ticket, reason: input.reason }),
        onCall: false,
        incidents: [],
      });
      if (!decision.allowed) {
        // A refusal by no permit at all has no advice of its own: say what the person can do instead.
        const advice = decision.advice.length > 0 ? decision.advice : [askInstead(target.id)];
        throw refusal(`you may not break glass on ${target.id}`, { ...decision, advice });
      }
      const now = clock();
      assertSteppedUp(principal, target, now);
      const request: AccessRequest = {
        ...newPendingRequest(target, {
          id: newId(),
          requesterId: principal.id,
          reason: input.reason,
          ticket,
          durationSeconds,
          // A break-glass takes the target's default scopes: nothing is picked in an emergency.
          scopes: resolveRequestedScopes(target, undefined),
          now,
        }),
        // Approved by policy as it is made: never pending, never escalated.
        state: "approved",
        pendingUntil: now,
        decidedAt: now,
        escalateAt: null,
        breakGlass: true,
      };
      const grant = newGrant({
        id: newId(),
        requestId: request.id,
        targetId: target.id,
        principalId: principal.id,
        durationSeconds,
        now,
      });
      await commitAudited(store, now, async (repos, record) => {
        // Takes the person's lock: concurrent break-glasses (and requests) by one person run in turn.
        await checkRequestCaps(repos, limits, principal, now);
        const blocking = await repos.breakGlass.findBlocking(principal.id);
        if (blocking) throw new ConflictError(blockedBecause(blocking));
        await repos.requests.insert(request);
        record({
          actor: principal.id,
          action: "request.break_glass",
          subjectType: "request",
          subjectId: request.id,
          data: {
            targetId: target.id,
            durationSeconds,
            ticket,
            reason: input.reason,
            policies: [...decision.policies],
            scopes: [...request.scopes],
            authentication: authenticationRecord(principal.authentication),
          },
        });
        await repos.grants.insert(grant);
        record({
          actor: principal.id,
          action: "grant.created",
          subjectType: "grant",
          subjectId: grant.id,
          data: { requestId: request.id, targetId: target.id, durationSeconds },
        });
      });
      // After commit: if the queue is down the grant stays issuing and the sweep enqueues it again.
      await queues.issue(grant.id).catch((error: unknown) => {
        log.warn({ grantId: grant.id, err: String(error) }, "could not enqueue issue; the sweep will retry");
      });
      log.warn(
        { requestId: request.id, grantId: grant.id, targetId: target.id, requester: principal.id },
        "BREAK-GLASS: access activated without approval",
      );
      return { request, grant };
    },

    /**
     * An approver marks a break-glass justified or unjustified, once. Only whom the Approve policy
     * allows for its target, and never the person who broke the glass, whatever a policy says.
     */
    async reviewBreakGlass(principal: Principal, raw: ReviewBreakGlassInput): Promise<BreakGlassItem> {
      const input = parsed(reviewBreakGlassInput, raw);
      const now = clock();
      return commitAudited(store, now, async (repos, record) => {
        const request = await repos.requests.lockById(input.requestId);
        if (!request?.breakGlass) throw new NotFoundError("there is no such break-glass");
        if (samePrincipalId(principal.id, request.requesterId)) {
          throw new ForbiddenError("you cannot review your own break-glass");
        }
        const target = targets.get(request.targetId);
        if (!target) throw new ConflictError(`target ${request.targetId} is no longer configured`);
        const decision = decideApprove(deps, principal, target, request, []);
        if (!decision.allowed) throw refusal(`you are not an approver for ${target.id}`, decision);
        assertSteppedUp(principal, target, now);
        const review: BreakGlassReview = {
          requestId: request.id,
          reviewerId: principal.id,
          verdict: input.verdict,
          comment: input.comment ?? null,
          reviewedAt: now,
        };
        if (!(await repos.breakGlass.insertReview(review, request.requesterId))) {
          const first = await repos.breakGlass.findReview(request.id);
          throw new ConflictError(
            `this break-glass was already marked ${first?.verdict ?? "reviewed"} by ${first?.reviewerId ?? "someone else"}`,
          );
        }
        record({
          actor: principal.id,
          action: "request.break_glass_reviewed",
          subjectType: "request",
          subjectId: request.id,
          data: {
            verdict: input.verdict,
            comment: review.comment,
            policies: [...decision.policies],
            authentication: authenticationRecord(principal.authentication),
          },
        });
        return { request, review };
      });
    },

    /**
     * The open items: unreviewed break-glasses the caller may review (every one, for whoever may read
     * the audit trail), oldest first, and the caller's own break-glass that blocks their next one.
     */
    async openBreakGlass(principal: Principal, options: { limit: number }): Promise<OpenBreakGlass> {
      const [unreviewed, blocking] = await store.read((repos) =>
        Promise.all([
          repos.breakGlass.listUnreviewed(
            targets.list().map((t) => t.id),
            OPEN_SCAN,
          ),
          repos.breakGlass.findBlocking(principal.id),
        ]),
      );
      const admin = mayReadAudit(deps, principal);
      const toReview = unreviewed
        .filter((request) => {
          if (samePrincipalId(request.requesterId, principal.id)) return false;
          const target = targets.get(request.targetId);
          return (
            admin || (target !== undefined && decideApprove(deps, principal, target, request, []).allowed)
          );
        })
        .slice(0, options.limit)
        .map((request) => ({ request, review: null }));
      const mine = blocking
        ? {
            request: blocking.request,
            review: blocking.reviewed
              ? ((await store.read((r) => r.breakGlass.findReview(blocking.request.id))) ?? null)
              : null,
          }
        : null;
      return { toReview, mine };
    },
  };
}

export type BreakGlassService = ReturnType<typeof createBreakGlassService>;
