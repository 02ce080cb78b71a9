import type { Grant, Target } from "@leasehold/domain";
import { directMessageOrSkip, type EventOf, type NoticeDeps } from "./notice-deps.js";

/** The Extend action adds at most this much. */
const EXTEND_STEP_SECONDS = 1800;

/** How much the reminder's Extend action may add within the target's policy (0: none). */
export function extendAllowance(target: Target | undefined, grant: Grant): number {
  if (!target || !grant.issuedAt || !grant.expiresAt) return 0;
  const max = Math.min(target.maxDurationSeconds, target.durationLimits.maxSeconds);
  const lived = Math.round((grant.expiresAt.getTime() - grant.issuedAt.getTime()) / 1000);
  const room = Math.min(EXTEND_STEP_SECONDS, max - lived);
  return room >= 60 ? room : 0;
}

/** When to remind the holder: 5 minutes before the deadline, or a fifth of the grant for short ones. */
export function reminderAt(grant: Grant, now: Date): Date | undefined {
  if (!grant.expiresAt) return undefined;
  const leadMs = Math.min(300_000, grant.durationSeconds * 200);
  return new Date(Math.max(now.getTime(), grant.expiresAt.getTime() - leadMs));
}

/** What a grant's holder hears (granted, ended, reminder), and the alert on revocation debt. */
export function createGrantNotices(deps: NoticeDeps) {
  const { store, targets, messenger, queue, alertsChannel, clock } = deps;
  const dm = directMessageOrSkip(deps);

  const grantOf = (grantId: string) => store.read((r) => r.grants.findById(grantId));

  const scheduleReminder = async (grant: Grant) => {
    const now = clock();
    const at = reminderAt(grant, now);
    if (at) await queue.remindAt(grant.id, at, now);
  };

  const onGrantEvent = async (event: EventOf<"grant">) => {
    const grant = await grantOf(event.subjectId);
    if (!grant) return;
    // Workload leases have no person to tell; only revocation debt concerns someone.
    if (grant.requestId === null && event.action !== "grant.revocation_failed") return;
    const { id: grantId, targetId, principalId } = grant;
    switch (event.action) {
      case "grant.issued":
      case "grant.extended":
        if (grant.state !== "active" || !grant.expiresAt) return;
        await dm(principalId, {
          kind: "granted",
          grantId,
          targetId,
          expiresAt: grant.expiresAt,
          extended: event.action === "grant.extended",
        });
        await scheduleReminder(grant);
        return;
      case "grant.expired":
      case "grant.revoked":
        await dm(principalId, {
          kind: "ended",
          targetId,
          how: event.action === "grant.expired" ? "expired" : "revoked",
          detail: null,
        });
        return;
      case "grant.issue_failed":
        await dm(principalId, { kind: "ended", targetId, how: "failed", detail: event.data.error });
        return;
      case "grant.revocation_failed": {
        const channels = new Set([targets.get(targetId)?.slackChannel, alertsChannel]);
        for (const channel of channels) {
          if (!channel) continue;
          await messenger.alert(channel, {
            kind: "revocation-debt",
            grantId,
            targetId,
            principalId,
            error: event.data.error,
          });
        }
        return;
      }
      default:
        return;
    }
  };

  return {
    onGrantEvent,

    /** The expiry reminder, if the grant is still active. */
    async remind(grantId: string): Promise<void> {
      const grant = await grantOf(grantId);
      if (grant?.state !== "active" || !grant.expiresAt || grant.expiresAt <= clock()) return;
      await dm(grant.principalId, {
        kind: "reminder",
        grantId: grant.id,
        targetId: grant.targetId,
        expiresAt: grant.expiresAt,
        extendBySeconds: extendAllowance(targets.get(grant.targetId), grant),
      });
    },
  };
}
