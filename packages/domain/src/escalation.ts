import { z } from "zod";
import { addSeconds } from "./clock.js";
import { durationSchema } from "./duration.js";
import { principalSetSchema } from "./principal.js";

/*
 * Escalation of unanswered requests. Level 0 is the target's own approvers; every `escalateAfter`
 * without a decision the request moves one level up, until the levels run out or the request's
 * pending window closes. Approvers at level n are the target's approvers and those of levels 1..n:
 * nobody who could approve loses that right because the request went further. Kind-agnostic, so
 * target.ts spreads `escalationShape` into every kind's schema.
 */

/** At most this many escalation levels per target: beyond that, nobody reads the pages anyway. */
export const MAX_ESCALATION_LEVELS = 5;

/** A Slack channel id (the same rule as a target's approvers' channel). */
const slackChannelIdSchema = z
  .string()
  .regex(
    /^[CG][A-Z0-9]{2,20}$/,
    "must be a Slack channel id: C or G followed by 2–20 upper-case letters and digits, like C0123ABCD (not a #name)",
  );

export const escalationLevelSchema = z
  .object({
    approvers: principalSetSchema,
    /** Where the request is re-posted at this level; the target's approvers' channel when omitted. */
    slackChannel: slackChannelIdSchema.optional(),
  })
  .strict();
export type EscalationLevel = z.output<typeof escalationLevelSchema>;

/** The leasehold.yaml fields of a target that configure escalation. */
export const escalationShape = {
  /** How long each level waits for a decision before the next one is asked. */
  escalateAfter: durationSchema.optional(),
  escalation: z.array(escalationLevelSchema).max(MAX_ESCALATION_LEVELS).default([]),
};

type EscalationInput = {
  readonly escalateAfter?: number | undefined;
  readonly escalation: readonly EscalationLevel[];
  readonly pendingTtl: number;
};

/** The rules escalation settings must meet; issues go to `ctx` with the path of the field to fix. */
export function checkEscalation(target: EscalationInput, ctx: z.RefinementCtx): void {
  const { escalateAfter, escalation, pendingTtl } = target;
  if (escalation.length > 0 && escalateAfter === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["escalateAfter"],
      message: "escalation needs escalateAfter: how long each level waits before the next is asked",
    });
  }
  if (escalateAfter !== undefined && escalation.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["escalation"],
      message: "escalateAfter needs at least one escalation level to escalate to",
    });
  }
  if (escalateAfter !== undefined && escalateAfter >= pendingTtl) {
    ctx.addIssue({
      code: "custom",
      path: ["escalateAfter"],
      message: `escalateAfter (${escalateAfter} s) must be shorter than pendingTtl (${pendingTtl} s), or the request expires before it escalates`,
    });
  }
  escalation.forEach((level, index) => {
    if (level.approvers.users.length === 0 && level.approvers.groups.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["escalation", index, "approvers"],
        message: "an escalation level must name at least one approver user or group",
      });
    }
  });
}

/** A target's escalation as the rest of Leasehold sees it (seconds; no levels when not configured). */
export type EscalationPolicy = {
  readonly escalateAfterSeconds: number | undefined;
  readonly escalation: readonly EscalationLevel[];
};

export const escalationPolicyOf = (target: EscalationInput): EscalationPolicy => ({
  escalateAfterSeconds: target.escalateAfter,
  escalation: target.escalation,
});

/** When a request made at `createdAt` first escalates; null when it never does (no levels, or too late). */
export function firstEscalationAt(
  target: EscalationPolicy,
  createdAt: Date,
  pendingUntil: Date,
): Date | null {
  if (target.escalateAfterSeconds === undefined || target.escalation.length === 0) return null;
  const at = addSeconds(createdAt, target.escalateAfterSeconds);
  return at < pendingUntil ? at : null;
}

/**
 * The step a pending request at `fromLevel` takes when its escalation falls due at `now`: the level
 * it moves to and when it escalates again (null at the last level, or when that would be after the
 * request expires). Each level gets a full `escalateAfter` from when it is asked. Undefined when
 * there is no level left to move to.
 */
export function nextEscalation(
  target: EscalationPolicy,
  fromLevel: number,
  now: Date,
  pendingUntil: Date,
): { toLevel: number; nextAt: Date | null } | undefined {
  if (target.escalateAfterSeconds === undefined || fromLevel >= target.escalation.length) return undefined;
  const toLevel = fromLevel + 1;
  const at = addSeconds(now, target.escalateAfterSeconds);
  const nextAt = toLevel < target.escalation.length && at < pendingUntil ? at : null;
  return { toLevel, nextAt };
}

/** The level a request at `level` was re-posted to, when it names one (level 0 is the target's own). */
export const escalationLevelAt = (target: EscalationPolicy, level: number): EscalationLevel | undefined =>
  level >= 1 ? target.escalation[level - 1] : undefined;
