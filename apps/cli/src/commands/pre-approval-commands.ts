import { formatDuration } from "@leasehold/domain";
import { type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { parseFor } from "./request-commands.js";

/** A pre-approval as the API renders it (the fields the listing shows). */
type Shown = {
  id: string;
  targetId: string;
  principalId: string;
  approverId: string;
  startsAt: string | null;
  endsAt: string | null;
  revokedAt: string | null;
  reason: string;
};

/**
 * The window of `--from <ISO|now> --for <duration>`: `now` (or no --from) leaves the start to the
 * server's clock and ends `--for` after this machine's now; a time without a zone is local time.
 * The API checks the bounds (at most 7 days, starting within 30 days).
 */
export function preApprovalWindow(
  from: string | undefined,
  forText: string | undefined,
  now: Date,
): { startsAt?: string; endsAt: string } {
  const seconds = parseFor(forText);
  if (seconds === undefined)
    throw new CliError("say how long with --for, like --for 8h or --for 2d", EXIT.usage);
  if (from === undefined || from === "now") {
    return { endsAt: new Date(now.getTime() + seconds * 1000).toISOString() };
  }
  const start = new Date(from);
  if (from.length > 64 || Number.isNaN(start.getTime())) {
    throw new CliError(
      `--from takes "now" or a time like 2026-12-24T22:00Z, not "${from.slice(0, 64)}"`,
      EXIT.usage,
    );
  }
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + seconds * 1000).toISOString() };
}

/** One line per window: id, state at `now`, person, target, window, first line of the reason. */
export function preApprovalLine(p: Shown, now: Date): string {
  const ends = p.endsAt ? new Date(p.endsAt) : now;
  const state = p.revokedAt
    ? "revoked"
    : ends <= now
      ? "ended"
      : p.startsAt && new Date(p.startsAt) > now
        ? "upcoming"
        : "active";
  return `${p.id}  ${state.padEnd(8)} ${p.principalId} on ${p.targetId}  ${p.startsAt} → ${p.endsAt}  (by ${p.approverId}) ${
    p.reason.split("\n")[0]
  }`;
}

export const preapproveCommand: Command = {
  name: "preapprove",
  usage: 'leasehold preapprove <person> <target> [--from <ISO|now>] --for <8h|2d> --reason "..."',
  summary:
    "pre-approve someone for a target during a window (at most 7 days): their requests are auto-approved",
  options: { from: { type: "string" }, for: { type: "string" }, reason: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const principalId = required(positionals, 1, "the person (their email)");
    const targetId = required(positionals, 2, "the target (see `leasehold targets`)");
    const reason = option(values, "reason");
    if (!reason) throw new CliError("say why with --reason", EXIT.usage);
    const window = preApprovalWindow(option(values, "from"), option(values, "for"), new Date());
    const created = await ctx.api().preApprovals.create.mutate({ principalId, targetId, reason, ...window });
    const length =
      created.startsAt && created.endsAt
        ? formatDuration((Date.parse(created.endsAt) - Date.parse(created.startsAt)) / 1000)
        : "";
    ctx.print(
      `pre-approved ${created.principalId} for ${created.targetId} from ${created.startsAt} to ${created.endsAt} (${length}): ${created.id}\n  revoke with: leasehold preapprovals revoke ${created.id}`,
      created,
    );
    return EXIT.ok;
  },
};

export const preapprovalsCommand: Command = {
  name: "preapprovals",
  usage: "leasehold preapprovals [--target <id>] [--all] | leasehold preapprovals revoke <id>",
  summary:
    "current and upcoming pre-approval windows you may see (--all: ended and revoked too); or revoke one",
  options: { target: { type: "string" }, all: { type: "boolean" } },
  async run(ctx, { positionals, values }) {
    if (positionals[1] === "revoke") {
      const preApprovalId = required(positionals, 2, "the pre-approval id");
      const revoked = await ctx.api().preApprovals.revoke.mutate({ preApprovalId });
      ctx.print(`pre-approval ${revoked.id} revoked`, revoked);
      return EXIT.ok;
    }
    if (positionals[1] !== undefined) {
      throw new CliError(`unknown preapprovals action "${positionals[1]}"; only revoke`, EXIT.usage);
    }
    const targetId = option(values, "target");
    const windows = await ctx.api().preApprovals.list.query({
      current: !values.all,
      limit: 200,
      ...(targetId ? { targetId } : {}),
    });
    const now = new Date();
    ctx.print(
      windows.length ? windows.map((p) => preApprovalLine(p, now)).join("\n") : "no pre-approvals",
      windows,
    );
    return EXIT.ok;
  },
};
