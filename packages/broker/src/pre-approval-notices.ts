import type { EventOf, NoticeDeps } from "./notice-deps.js";

/**
 * A new pre-approval window, posted once to its target's approvers' channel and to the alerts
 * channel: requests inside it will be approved without anyone being asked, so the people who would
 * have been asked hear of the window up front. Decided from the current row, so a window revoked or
 * ended before this delivery is not announced. Like every alert, delivery is at least once: a retry
 * after one channel failed may post again to a channel that already has it.
 */
export function createPreApprovalNotices(deps: NoticeDeps) {
  const { store, targets, messenger, alertsChannel, clock } = deps;

  const onPreApprovalEvent = async (event: EventOf<"preapproval">) => {
    if (event.action !== "preapproval.created") return;
    const p = await store.read((r) => r.preApprovals.findById(event.subjectId));
    if (!p || p.revokedAt !== null || p.endsAt <= clock()) return;
    const channels = new Set([targets.get(p.targetId)?.slackChannel, alertsChannel]);
    for (const channel of channels) {
      if (!channel) continue;
      await messenger.alert(channel, {
        kind: "pre-approval",
        preApprovalId: p.id,
        targetId: p.targetId,
        principalId: p.principalId,
        approverId: p.approverId,
        startsAt: p.startsAt,
        endsAt: p.endsAt,
        reason: p.reason,
      });
    }
  };

  return { onPreApprovalEvent };
}
