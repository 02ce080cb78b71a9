import {
  type AccessRequest,
  authenticationRecord,
  ConflictError,
  type CreatePreApprovalInput,
  ForbiddenError,
  InvalidRequestError,
  type ListPreApprovalsInput,
  NotFoundError,
  newPendingRequest,
  type PreApproval,
  type Principal,
  resolvePreApprovalWindow,
  samePrincipalId,
  type Target,
} from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { assertSteppedUp, decideApprove, mayReadAudit, type PolicyDeps, refusal } from "./policy-checks.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "clock" | "newId" | "policy" | "log">;

/** Windows read to find those one non-admin may see: visibility is decided per window. */
const VISIBLE_SCAN = 1000;

/**
 * The request a pre-approval stands in for, as the Approve policies see it: pending, by the
 * pre-approved person, with the target's neutral details (default duration, no ticket, no reason),
 * so only policies about who approves whom for what decide, not one request's particulars.
 */
const standInRequest = (principalId: string, target: Target, now: Date): AccessRequest =>
  newPendingRequest(target, {
    id: "00000000-0000-0000-0000-000000000000",
    requesterId: principalId,
    reason: "",
    ticket: null,
    durationSeconds: target.defaultDurationSeconds,
    scopes: target.defaultScopes,
    now,
  });

/** Whether `principal` may approve a request by `principalId` for `target` (never their own). */
const mayApproveFor = (deps: PolicyDeps, principal: Principal, principalId: string, target: Target) =>
  decideApprove(deps, principal, target, standInRequest(principalId, target, deps.clock()), []);

/**
 * Pre-approval windows (pre-approval.ts in the domain): whoever may approve a person's request for a
 * target may pre-approve that person for a window; requests inside it are then auto-approved by the
 * built-in policy `builtin/pre-approved` (the request use case asks `activeFor`). Nobody pre-approves
 * themselves (invariant 1). Every change is audited in its own transaction (invariant 7); the
 * approvers' channel hears of each new window from its audit event (pre-approval-notices.ts).
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose methods share the dependencies it closes over; each method is short.
export function createPreApprovalService(deps: Deps) {
  const { store, targets, clock, newId, log } = deps;

  /** The pre-approved person, its maker, the target's approvers and the admins may see a window. */
  const maySee = (principal: Principal, p: PreApproval): boolean => {
    if (samePrincipalId(principal.id, p.principalId) || samePrincipalId(principal.id, p.approverId)) {
      return true;
    }
    const target = targets.get(p.targetId);
    if (target !== undefined && mayApproveFor(deps, principal, p.principalId, target).allowed) return true;
    return mayReadAudit(deps, principal);
  };

  return {
    /** Pre-approves `input.principalId` for a target during a window. Refused before anything is recorded. */
    async create(approver: Principal, input: CreatePreApprovalInput): Promise<PreApproval> {
      const target = targets.get(input.targetId);
      if (!target) throw new NotFoundError(`there is no target called ${input.targetId}`);
      if (samePrincipalId(approver.id, input.principalId)) {
        throw new ForbiddenError("you cannot pre-approve yourself: nobody approves their own access");
      }
      // A window is one approver's word: it cannot stand in for the several a target requires.
      if (target.requiredApprovals > 1) {
        throw new InvalidRequestError(
          `${target.id} needs ${target.requiredApprovals} approvals per request; a pre-approval window is one approver's, so it is offered only for targets that need one`,
        );
      }
      const decision = mayApproveFor(deps, approver, input.principalId, target);
      if (!decision.allowed) {
        throw refusal(`you may not approve ${input.principalId}'s requests for ${target.id}`, decision);
      }
      const now = clock();
      // A window approves requests in advance: on a step-up target it needs the fresh sign-in an
      // approval needs, or it would be the way around step-up.
      assertSteppedUp(approver, target, now);
      const window = resolvePreApprovalWindow(input, now);
      const preApproval: PreApproval = {
        id: newId(),
        targetId: target.id,
        principalId: input.principalId,
        approverId: approver.id,
        reason: input.reason,
        startsAt: window.startsAt,
        endsAt: window.endsAt,
        createdAt: now,
        revokedAt: null,
        revokedBy: null,
      };
      await commitAudited(store, now, async (repos, record) => {
        await repos.preApprovals.insert(preApproval);
        record({
          actor: approver.id,
          action: "preapproval.created",
          subjectType: "preapproval",
          subjectId: preApproval.id,
          data: {
            targetId: target.id,
            principalId: preApproval.principalId,
            startsAt: preApproval.startsAt.toISOString(),
            endsAt: preApproval.endsAt.toISOString(),
            reason: preApproval.reason,
            authentication: authenticationRecord(approver.authentication),
            policies: [...decision.policies],
          },
        });
      });
      log.info(
        { preApprovalId: preApproval.id, targetId: target.id, principal: preApproval.principalId },
        "pre-approval window created",
      );
      return preApproval;
    },

    /** Withdraws a window: its maker, or whoever may read the audit trail (the admins). */
    async revoke(principal: Principal, preApprovalId: string): Promise<PreApproval> {
      const found = await store.read((repos) => repos.preApprovals.findById(preApprovalId));
      if (!found || !maySee(principal, found)) {
        throw new NotFoundError("there is no such pre-approval, or you may not see it");
      }
      if (!samePrincipalId(principal.id, found.approverId) && !mayReadAudit(deps, principal)) {
        throw new ForbiddenError("only the approver who made a pre-approval, or an admin, may revoke it");
      }
      const now = clock();
      // The approver and the window never change after creation, so the check above still holds here;
      // the conditional UPDATE decides between two revocations racing.
      const revoked = await commitAudited(store, now, async (repos, record) => {
        const updated = await repos.preApprovals.revoke(found.id, principal.id, now);
        if (!updated) throw new ConflictError("this pre-approval has already ended or been revoked");
        record({
          actor: principal.id,
          action: "preapproval.revoked",
          subjectType: "preapproval",
          subjectId: found.id,
          data: { targetId: found.targetId, principalId: found.principalId },
        });
        return updated;
      });
      log.info({ preApprovalId: found.id, targetId: found.targetId }, "pre-approval window revoked");
      return revoked;
    },

    /**
     * Windows the caller may see, latest start first: all of them for admins; otherwise their own,
     * the ones they made, and those of targets they approve for (decided per window over a bounded scan).
     */
    async list(principal: Principal, filters: ListPreApprovalsInput): Promise<PreApproval[]> {
      const admin = mayReadAudit(deps, principal);
      const found = await store.read((repos) =>
        repos.preApprovals.list({
          targetId: filters.targetId,
          principalId: filters.principalId,
          liveAt: filters.current ? clock() : undefined,
          limit: admin ? filters.limit : VISIBLE_SCAN,
        }),
      );
      return admin ? found : found.filter((p) => maySee(principal, p)).slice(0, filters.limit);
    },
  };
}

export type PreApprovalService = ReturnType<typeof createPreApprovalService>;
