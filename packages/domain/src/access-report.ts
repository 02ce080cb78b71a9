import { z } from "zod";
import { principalIdSchema } from "./principal.js";
import { targetIdSchema } from "./target.js";

/*
 * Access reports (issue 14): who held which target when, built from the verified audit trail. The
 * shapes every edge shares: the bounded input, the row, and the row as CSV.
 */

/** How a grant came to be: approved by people, break-glass, a workload's lease, or approved by policy. */
export const ACCESS_KINDS = ["request", "break-glass", "lease", "auto-approved"] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

/** Longest range one report covers, in days: a year, leap day included. */
export const ACCESS_REPORT_MAX_DAYS = 366;
/** Most rows one report returns; a longer history is read in shorter ranges. */
export const ACCESS_REPORT_MAX_ROWS = 10_000;
/** Credential read times listed per row (the count is always complete). */
export const ACCESS_REPORT_MAX_READ_TIMES = 100;
/** A principal eligible for a target who has had no grant of it for this long is "standing" access. */
export const STANDING_UNUSED_DAYS = 90;

const instantSchema = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 time with a zone, like 2026-12-01T00:00:00Z" })
  .transform((text) => new Date(text));

export const accessReportInput = z
  .object({
    from: instantSchema,
    to: instantSchema,
    principalId: principalIdSchema.optional(),
    targetId: targetIdSchema.optional(),
    kind: z.enum(ACCESS_KINDS).optional(),
    limit: z.int().min(1).max(ACCESS_REPORT_MAX_ROWS).default(1000),
  })
  .strict()
  .superRefine(({ from, to }, ctx) => {
    // Zod runs this even when a field failed: check only two instants that parsed.
    if (!(from instanceof Date) || !(to instanceof Date)) return;
    if (to <= from) {
      ctx.addIssue({ code: "custom", message: "the range must end after it starts", path: ["to"] });
    } else if (to.getTime() - from.getTime() > ACCESS_REPORT_MAX_DAYS * 86_400_000) {
      ctx.addIssue({
        code: "custom",
        message: `a report covers at most ${ACCESS_REPORT_MAX_DAYS} days: split the range`,
        path: ["to"],
      });
    }
  });
export type AccessReportInput = z.output<typeof accessReportInput>;

/** How a grant ended, as of the report's end; or that it had not yet (`issuing`, `active`, `revoking`). */
export type AccessEnding = "issuing" | "active" | "revoking" | "expired" | "revoked" | "failed";

/** One grant in a report. Times are ISO 8601; nothing here is a secret (reason and ticket are user text). */
export type AccessReportRow = {
  readonly grantId: string;
  readonly requestId: string | null;
  readonly holder: string;
  readonly targetId: string;
  readonly kind: AccessKind;
  readonly requestedAt: string;
  /** The people who approved, or `policy:<id>` for each policy that did; empty for break-glass and leases. */
  readonly approvedBy: readonly string[];
  readonly ticket: string | null;
  readonly reason: string | null;
  readonly issuedAt: string | null;
  readonly expiresAt: string | null;
  readonly endedAt: string | null;
  readonly ending: AccessEnding;
  /** Who asked for the revocation (the holder, an admin, or a system actor). */
  readonly revokedBy: string | null;
  readonly breakGlassReview: { readonly verdict: string; readonly by: string; readonly at: string } | null;
  readonly credentialReads: { readonly count: number; readonly times: readonly string[] };
};

export type AccessReport = {
  readonly from: string;
  readonly to: string;
  /** The verified head the report was read up to. */
  readonly head: { readonly seq: number; readonly hash: string };
  readonly rows: readonly AccessReportRow[];
  /** More grants matched than `limit`: the newest were left out. */
  readonly truncated: boolean;
};

/** A person named as eligible to request a target who has held no grant of it for STANDING_UNUSED_DAYS. */
export type UnusedEligibility = { readonly targetId: string; readonly principalId: string };

export type StandingReport = {
  readonly at: string;
  readonly active: readonly AccessReportRow[];
  readonly unused: readonly UnusedEligibility[];
  /** Groups whose members may request each target: membership is the identity provider's to review. */
  readonly eligibleGroups: readonly { readonly targetId: string; readonly groups: readonly string[] }[];
  /** More than ACCESS_REPORT_MAX_ROWS grants in the window: `active` and `unused` are incomplete. */
  readonly truncated: boolean;
};

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. A
 * cell starting with = + - @ (or a tab or carriage return) would be a formula to a spreadsheet:
 * reason and ticket are user text, so such a cell gets a leading apostrophe.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows as CSV with a header, CRLF line ends (RFC 4180). */
export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(",")}\r\n`).join("");
}

export const ACCESS_CSV_HEADER = [
  "grant_id",
  "request_id",
  "holder",
  "target",
  "kind",
  "requested_at",
  "approved_by",
  "ticket",
  "reason",
  "issued_at",
  "expires_at",
  "ended_at",
  "ending",
  "revoked_by",
  "break_glass_verdict",
  "break_glass_reviewed_by",
  "credential_reads",
  "credential_read_times",
] as const;

/** A report's rows as CSV; lists within a cell are separated by spaces. */
export const accessReportCsv = (rows: readonly AccessReportRow[]): string =>
  toCsv(
    ACCESS_CSV_HEADER,
    rows.map((r) => [
      r.grantId,
      r.requestId,
      r.holder,
      r.targetId,
      r.kind,
      r.requestedAt,
      r.approvedBy.join(" "),
      r.ticket,
      r.reason,
      r.issuedAt,
      r.expiresAt,
      r.endedAt,
      r.ending,
      r.revokedBy,
      r.breakGlassReview?.verdict ?? null,
      r.breakGlassReview?.by ?? null,
      r.credentialReads.count,
      r.credentialReads.times.join(" "),
    ]),
  );

/** Standing access as CSV: one line per active grant (`active`) and per unused eligibility (`unused`). */
export const standingReportCsv = (report: StandingReport): string =>
  toCsv(
    ["kind", "target", "principal", "grant_id", "since", "expires_at"],
    [
      ...report.active.map((r) => ["active", r.targetId, r.holder, r.grantId, r.issuedAt, r.expiresAt]),
      ...report.unused.map((u) => ["unused", u.targetId, u.principalId, null, null, null]),
      ...report.eligibleGroups.flatMap((g) =>
        g.groups.map((group) => ["eligible-group", g.targetId, `member-of:${group}`, null, null, null]),
      ),
    ],
  );
