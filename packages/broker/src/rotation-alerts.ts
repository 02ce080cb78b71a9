import type { Store } from "@leasehold/db";
import { readAuditEvent, SYSTEM_ACTOR } from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
import { rotationPeriodSeconds } from "./rotation-period.js";
import type { RotationDeps, RotationSettings } from "./rotation-service.js";

/** Periods of its schedule a rotation may go without a success before it is overdue. */
export const OVERDUE_PERIODS = 2;
/** One worker at a time decides, so two replicas never record the same episode twice. */
const OVERDUE_LOCK = "rotation-overdue";

/** Where a rotation's count starts, and the success (if any) that started it. */
type Standing = { readonly since: Date; readonly lastSuccessRunId: string | null };

/**
 * The overdue check (the worker's sweep): a rotation with no succeeded run for OVERDUE_PERIODS periods
 * of its schedule gets a `rotation.overdue` audit event, which the notification service turns into an
 * alert. The count starts at the last success; for a rotation that never succeeded, at its first
 * run's start, or, when it never ran at all, at when this process started watching (a restart starts
 * that count again; a schedule that never fires is still caught). Once per episode: an episode is
 * named by the success it is measured from (none for a rotation that never succeeded), so the next
 * sweep finds the event already written, and only a new success opens a new episode.
 */
export function createRotationOverdueCheck(deps: Pick<RotationDeps, "store" | "clock" | "log" | "setup">) {
  const { store, clock, log, setup } = deps;
  const watchingSince = clock();

  const standingOf = async (locked: Store, rotationId: string): Promise<Standing> => {
    const [success, firstStartedAt] = await locked.read((r) =>
      Promise.all([r.rotations.latestSucceeded(rotationId), r.rotations.firstStartedAt(rotationId)]),
    );
    if (success) return { since: success.finishedAt ?? success.startedAt, lastSuccessRunId: success.id };
    return { since: firstStartedAt ?? watchingSince, lastSuccessRunId: null };
  };

  /** Whether this episode already has its event (only events the audit key vouches for count). */
  const alreadyRecorded = async (locked: Store, rotationId: string, standing: Standing) => {
    const events = await locked.read((r) => r.audit.authenticFor(rotationId));
    return events.some((stored) => {
      const event = readAuditEvent(stored);
      return (
        event?.action === "rotation.overdue" &&
        event.data.rotation === rotationId &&
        event.data.lastSuccessRunId === standing.lastSuccessRunId
      );
    });
  };

  const checkOne = async (locked: Store, rotation: RotationSettings): Promise<boolean> => {
    const standing = await standingOf(locked, rotation.id);
    const periodSeconds = rotationPeriodSeconds(rotation.schedule.cron, standing.since);
    if (periodSeconds === null) return false;
    const now = clock();
    if (now.getTime() - standing.since.getTime() <= OVERDUE_PERIODS * periodSeconds * 1000) return false;
    if (await alreadyRecorded(locked, rotation.id, standing)) return false;
    await commitAudited(locked, now, async (_repos, record) => {
      record({
        actor: SYSTEM_ACTOR.sweep,
        action: "rotation.overdue",
        subjectType: "rotation",
        subjectId: rotation.id,
        data: {
          rotation: rotation.id,
          lastSuccessRunId: standing.lastSuccessRunId,
          since: standing.since.toISOString(),
          periodSeconds,
        },
      });
    });
    log.warn(
      { rotation: rotation.id, since: standing.since.toISOString(), periodSeconds },
      "ROTATION OVERDUE: no run succeeded for two periods of its schedule",
    );
    return true;
  };

  return {
    /** Records each rotation newly overdue; returns how many were. */
    async checkOverdue(): Promise<number> {
      const rotations = [...(setup?.rotations.values() ?? [])].map((rotation) => rotation.config);
      if (rotations.length === 0) return 0;
      return store.exclusive(OVERDUE_LOCK, async (locked) => {
        let raised = 0;
        for (const rotation of rotations) if (await checkOne(locked, rotation)) raised += 1;
        return raised;
      });
    },
  };
}
