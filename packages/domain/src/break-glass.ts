import { z } from "zod";
import { InvalidRequestError } from "./errors.js";
import { durationSecondsSchema, idSchema, reasonSchema, ticketSchema } from "./schemas.js";
import type { Target } from "./target.js";
import { targetIdSchema } from "./target.js";
import { boundedText } from "./text.js";

/*
 * Break-glass: a person policy allows (the target's `breakGlass.allowed`, or a policy file's permit on
 * `BreakGlass`) activates access with no approver. What no policy can switch off: a reason is always
 * required, the duration never exceeds the target's break-glass cap, a person holds at most one
 * break-glass at a time, every break-glass is broadcast, and every one is reviewed afterwards by an
 * approver who is not the person who broke the glass; until it is, that person cannot break glass again.
 */

/** An approver's verdict on a break-glass, after the fact. */
export const breakGlassVerdicts = ["justified", "unjustified"] as const;
export type BreakGlassVerdict = (typeof breakGlassVerdicts)[number];

/** The one review of a break-glass, as stored. */
export type BreakGlassReview = {
  readonly requestId: string;
  readonly reviewerId: string;
  readonly verdict: BreakGlassVerdict;
  readonly comment: string | null;
  readonly reviewedAt: Date;
};

/** What every edge (API, CLI, Slack) parses a break-glass with. The reason is never optional. */
export const breakGlassInput = z
  .object({
    targetId: targetIdSchema,
    /** Omitted: the lesser of the target's default duration and its break-glass cap. */
    durationSeconds: durationSecondsSchema.optional(),
    reason: reasonSchema,
    ticket: ticketSchema.optional(),
  })
  .strict();
export type BreakGlassInput = z.infer<typeof breakGlassInput>;

export const reviewBreakGlassInput = z
  .object({
    requestId: idSchema,
    verdict: z.enum(breakGlassVerdicts),
    comment: boundedText({ min: 1, max: 500, multiline: true, label: "comment" }).optional(),
  })
  .strict();
export type ReviewBreakGlassInput = z.infer<typeof reviewBreakGlassInput>;

/**
 * The duration of a break-glass: the asked-for one, or the lesser of the target's default and its
 * cap; refused when it exceeds the cap (`breakGlass.maxDuration`, default the lesser of 1 h and the
 * target's maximum) or leaves what the backend accepts.
 */
export function resolveBreakGlassDuration(target: Target, requestedSeconds: number | undefined): number {
  const cap = Math.min(target.breakGlass.maxDurationSeconds, target.durationLimits.maxSeconds);
  const seconds = requestedSeconds ?? Math.min(target.defaultDurationSeconds, cap);
  if (!Number.isInteger(seconds) || seconds < target.durationLimits.minSeconds) {
    throw new InvalidRequestError(
      `${target.id} needs a duration of at least ${target.durationLimits.minSeconds} seconds`,
    );
  }
  if (seconds > cap) {
    throw new InvalidRequestError(
      `a break-glass on ${target.id} lasts at most ${cap} seconds; asked for ${seconds}`,
    );
  }
  return seconds;
}
