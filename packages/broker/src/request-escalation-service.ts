import { nextEscalation, SYSTEM_ACTOR } from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";

type Deps = Pick<BrokerDeps, "store" | "targets" | "clock" | "log">;

/**
 * Escalation of unanswered requests (run by the sweep): a pending request whose `escalate_at` has
 * passed moves one level up, and its `request.escalated` event makes the notifier re-post it to that
 * level's channel and message its named approvers. Safe with any number of workers: each step is a
 * conditional UPDATE on the level it starts from, so of two sweeps racing for one step, one takes it
 * and the other changes and records nothing.
 */
export function createRequestEscalationService({ store, targets, clock, log }: Deps) {
  return {
    /** Takes one escalation step for each request that is due; returns how many moved. */
    async escalateDue(limit: number): Promise<number> {
      const now = clock();
      const due = await store.read((repos) => repos.requests.listEscalationDue(now, limit));
      let escalated = 0;
      for (const request of due) {
        const fromLevel = request.escalationLevel;
        // The target as configured now: a level removed since the request was made is not asked.
        const target = targets.get(request.targetId);
        const step = target && nextEscalation(target, fromLevel, now, request.pendingUntil);
        if (!step) {
          // Nowhere left to go: only the schedule is cleared, so the request is not listed again.
          // Who may approve and the request's state do not change, so there is nothing to audit.
          await store.transaction((repos) => repos.requests.stopEscalation(request.id, fromLevel));
          continue;
        }
        const moved = await commitAudited(store, now, async (repos, record) => {
          if (!(await repos.requests.escalate(request.id, { fromLevel, ...step }, now))) return false;
          record({
            actor: SYSTEM_ACTOR.sweep,
            action: "request.escalated",
            subjectType: "request",
            subjectId: request.id,
            data: { fromLevel, toLevel: step.toLevel },
          });
          return true;
        });
        if (moved) {
          escalated += 1;
          log.info(
            { requestId: request.id, targetId: request.targetId, fromLevel, toLevel: step.toLevel },
            "request escalated",
          );
        }
      }
      return escalated;
    },
  };
}

export type RequestEscalationService = ReturnType<typeof createRequestEscalationService>;
