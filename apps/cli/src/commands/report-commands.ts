import { ACCESS_KINDS, accessReportCsv, standingReportCsv } from "@leasehold/domain";
import { type Command, option } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

const UNITS_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `now`, a time before now (`-30d`, `-12h`, `-90m`; the dash may be left out, since the shell's
 * `--from -30d` reads as two options: write `--from=-30d` or `--from 30d`), or an ISO 8601 time
 * passed on as written (the API validates it). Relative times are the terminal's clock.
 */
export function parseWhen(text: string, now: Date, flag: string): string {
  if (text === "now") return now.toISOString();
  const relative = /^-?(\d{1,5})([mhd])$/.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = UNITS_MS[relative[2] as keyof typeof UNITS_MS];
    return new Date(now.getTime() - amount * unit).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    throw new CliError(
      `${flag} takes an ISO 8601 time (2026-12-01T00:00:00Z), now, or a time before now: --from=-30d, --from 12h`,
      EXIT.usage,
    );
  }
  return text;
}

function formatOf(values: Record<string, unknown>, json: boolean): "text" | "json" | "csv" {
  const format = option(values, "format") ?? (json ? "json" : "text");
  if (format !== "text" && format !== "json" && format !== "csv") {
    throw new CliError("--format is text, json or csv", EXIT.usage);
  }
  return format;
}

function kindOf(values: Record<string, unknown>) {
  const kind = option(values, "kind");
  if (kind === undefined) return undefined;
  const known = ACCESS_KINDS.find((k) => k === kind);
  if (!known) throw new CliError(`--kind is one of ${ACCESS_KINDS.join(", ")}`, EXIT.usage);
  return known;
}

export const reportCommand: Command = {
  name: "report",
  usage:
    "leasehold report access --from=<ISO|-30d> [--to <ISO|now>] [--person <id>] [--target <id>] [--kind <kind>] [--limit <n>] [--format text|json|csv] | leasehold report standing [--format text|json|csv]",
  summary:
    "who held which target when, and standing access, from the verified audit trail (admins, auditors)",
  options: {
    from: { type: "string" },
    to: { type: "string" },
    person: { type: "string" },
    target: { type: "string" },
    kind: { type: "string" },
    limit: { type: "string" },
    format: { type: "string" },
  },
  async run(ctx, { positionals, values }) {
    const format = formatOf(values, ctx.json);
    const now = new Date();
    if (positionals[1] === "access") {
      const from = option(values, "from");
      if (!from) throw new CliError("say where the report starts: --from=<ISO|-30d>", EXIT.usage);
      const limit = option(values, "limit");
      const report = await ctx.api().reports.access.query({
        from: parseWhen(from, now, "--from"),
        to: parseWhen(option(values, "to") ?? "now", now, "--to"),
        ...(option(values, "person") ? { principalId: option(values, "person") } : {}),
        ...(option(values, "target") ? { targetId: option(values, "target") } : {}),
        ...(kindOf(values) ? { kind: kindOf(values) } : {}),
        ...(limit ? { limit: Number(limit) } : {}),
      });
      if (report.truncated) ctx.status("more grants matched than --limit: the newest were left out");
      if (format === "csv") process.stdout.write(accessReportCsv(report.rows));
      else if (format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else
        ctx.print(
          report.rows.length === 0
            ? "no grants in that range"
            : report.rows
                .map(
                  (r) =>
                    `${r.requestedAt}  ${r.holder}  ${r.targetId}  ${r.kind}  ${r.ending}${r.revokedBy ? ` by ${r.revokedBy}` : ""}  approved by ${r.approvedBy.join(", ") || "-"}  reads ${r.credentialReads.count}`,
                )
                .join("\n"),
          report,
        );
      return EXIT.ok;
    }
    if (positionals[1] === "standing") {
      const report = await ctx.api().reports.standing.query();
      if (report.truncated)
        ctx.status("more grants in the window than one report holds: the lists are incomplete");
      if (format === "csv") process.stdout.write(standingReportCsv(report));
      else if (format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else
        ctx.print(
          [
            `active grants (${report.active.length}):`,
            ...report.active.map((r) => `  ${r.holder}  ${r.targetId}  until ${r.expiresAt ?? "-"}`),
            `eligible but unused for 90 days (${report.unused.length}):`,
            ...report.unused.map((u) => `  ${u.principalId}  ${u.targetId}`),
          ].join("\n"),
          report,
        );
      return EXIT.ok;
    }
    throw new CliError("say `leasehold report access` or `leasehold report standing`", EXIT.usage);
  },
};
