import { z } from "zod";
import { InvalidRequestError } from "./errors.js";
import { principalIdSchema } from "./principal.js";
import { idSchema } from "./schemas.js";
import { targetIdSchema } from "./target.js";
import { boundedText } from "./text.js";

/*
 * Pre-approval windows: an approver says in advance that one person may have one target during a
 * window (a maintenance night). Requests inside it are auto-approved by the built-in policy
 * `builtin/pre-approved`, still under the rate limits and still broadcast. A window is short and
 * announced ahead of time, so it cannot turn into standing access.
 */

/** Longest window: a week, so a pre-approval always ends and is renewed by a person who looks again. */
export const PRE_APPROVAL_MAX_SECONDS = 7 * 86_400;
/** How far ahead a window may start: thirty days, so a forgotten one does not lie in wait for months. */
export const PRE_APPROVAL_MAX_LEAD_SECONDS = 30 * 86_400;

/** A pre-approval as stored. `revokedAt`/`revokedBy` are set once, when someone withdraws it. */
export type PreApproval = {
  readonly id: string;
  readonly targetId: string;
  /** The person pre-approved (never the approver: nobody pre-approves themselves). */
  readonly principalId: string;
  readonly approverId: string;
  readonly reason: string;
  /** The window, `startsAt` inclusive, `endsAt` exclusive. */
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
};

/** Whether the pre-approval covers `at`: inside its window and not revoked by then. */
export const preApprovalCovers = (p: PreApproval, at: Date): boolean =>
  p.startsAt <= at && at < p.endsAt && (p.revokedAt === null || at < p.revokedAt);

/** An instant as the edges send it: ISO 8601 with a zone (`Z` or an offset). */
const instantSchema = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 time with a zone, like 2026-12-24T22:00:00Z" })
  .transform((text) => new Date(text));

export const preApprovalReasonSchema = boundedText({ min: 3, max: 500, multiline: true, label: "reason" });

/**
 * What an approver gives. The window's length is checked here; where it lies relative to now (ends
 * in the future, starts at most 30 days ahead) is checked by `resolvePreApprovalWindow`, which has
 * the clock. `startsAt` omitted: now.
 */
export const createPreApprovalInput = z
  .object({
    // A person: the built-in policy auto-approves people's requests; workloads lease without asking.
    principalId: principalIdSchema.refine((id) => !id.includes(":"), {
      message: "only a person (an email) can be pre-approved; workloads lease without an approval",
    }),
    targetId: targetIdSchema,
    startsAt: instantSchema.optional(),
    endsAt: instantSchema,
    reason: preApprovalReasonSchema,
  })
  .strict()
  .superRefine(({ startsAt, endsAt }, ctx) => {
    // Zod runs this even when a field failed: check only two instants that parsed.
    if (!(startsAt instanceof Date) || !(endsAt instanceof Date)) return;
    if (endsAt <= startsAt) {
      ctx.addIssue({ code: "custom", message: "the window must end after it starts", path: ["endsAt"] });
    } else if (endsAt.getTime() - startsAt.getTime() > PRE_APPROVAL_MAX_SECONDS * 1000) {
      ctx.addIssue({
        code: "custom",
        message: "a pre-approval window is at most 7 days long",
        path: ["endsAt"],
      });
    }
  });
export type CreatePreApprovalInput = z.infer<typeof createPreApprovalInput>;

/**
 * The window as it will be stored, seen from `now`: a start in the past (or none) becomes `now`,
 * since a window cannot cover what already happened. Refused: a window that has already ended, that
 * starts more than 30 days ahead, or that is longer than 7 days from its (clamped) start.
 */
export function resolvePreApprovalWindow(
  input: { readonly startsAt?: Date | undefined; readonly endsAt: Date },
  now: Date,
): { startsAt: Date; endsAt: Date } {
  const startsAt = input.startsAt === undefined || input.startsAt < now ? now : input.startsAt;
  const { endsAt } = input;
  if (endsAt <= now) throw new InvalidRequestError("the window has already ended; it must end in the future");
  if (startsAt.getTime() - now.getTime() > PRE_APPROVAL_MAX_LEAD_SECONDS * 1000) {
    throw new InvalidRequestError("a pre-approval window may start at most 30 days from now");
  }
  if (endsAt <= startsAt) throw new InvalidRequestError("the window must end after it starts");
  if (endsAt.getTime() - startsAt.getTime() > PRE_APPROVAL_MAX_SECONDS * 1000) {
    throw new InvalidRequestError("a pre-approval window is at most 7 days long");
  }
  return { startsAt, endsAt };
}

/** Filters of a listing; `activeAt` keeps windows that cover that instant. */
export const listPreApprovalsInput = z
  .object({
    targetId: targetIdSchema.optional(),
    principalId: principalIdSchema.optional(),
    /** Only windows not yet ended and not revoked (omitted: every window, newest first). */
    current: z.boolean().default(false),
    limit: z.int().min(1).max(200).default(50),
  })
  .strict();
export type ListPreApprovalsInput = z.infer<typeof listPreApprovalsInput>;

export const preApprovalIdInput = z.object({ preApprovalId: idSchema }).strict();
