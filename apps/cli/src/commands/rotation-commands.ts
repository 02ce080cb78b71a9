import { rotationIdInput, rotationRunsInput } from "@leasehold/domain";
import type { Api } from "../api-client.js";
import { type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

/** A run as the API renders it (the fields the text output shows). */
type ShownRun = Awaited<ReturnType<Api["rotations"]["runs"]["query"]>>[number];
type ShownRotation = Awaited<ReturnType<Api["rotations"]["list"]["query"]>>[number];
type DryRun = Awaited<ReturnType<Api["rotations"]["dryRun"]["mutate"]>>;

const ACTIONS = ["list", "run", "dry-run", "runs"] as const;

/** The rotation id at the edge, with the same bounds the API applies; a bad one is a usage error. */
export function rotationIdArg(text: string): string {
  const parsed = rotationIdInput.safeParse({ rotationId: text });
  if (!parsed.success) {
    throw new CliError(
      `"${text.slice(0, 64)}" is not a rotation id (lower-case letters, digits and -, as in leasehold.yaml)`,
      EXIT.usage,
    );
  }
  return parsed.data.rotationId;
}

/** `--limit` of `runs`: a whole number from 1 to 100 (default 20, as the API's). */
export function runsLimitArg(rotationId: string, text: string | undefined): number {
  const limit = text === undefined ? undefined : Number(text);
  const parsed = rotationRunsInput.safeParse({ rotationId, ...(limit === undefined ? {} : { limit }) });
  if (!parsed.success) throw new CliError("--limit takes a whole number from 1 to 100", EXIT.usage);
  return parsed.data.limit;
}

/** One run: when it started, how it ended (or where it is), its trigger, and the error if any. */
export function runLine(run: ShownRun): string {
  const where = run.state === "running" ? `running at ${run.step}` : run.state;
  const failedAt = run.state === "failed" ? ` at ${run.step}` : "";
  const error = run.lastError ? `: ${run.lastError.split("\n")[0]}` : "";
  return `${run.startedAt}  ${run.id}  ${where}${failedAt}  (${run.attempts} attempt${
    run.attempts === 1 ? "" : "s"
  }, by ${run.triggeredBy})${error}`;
}

/** One configured rotation: id, where the secret lives, its schedule, and its latest run. */
export function rotationLine(rotation: ShownRotation): string {
  const last = rotation.lastRun
    ? `last run ${rotation.lastRun.state} ${rotation.lastRun.finishedAt ?? rotation.lastRun.startedAt}`
    : "never run";
  const jitter = rotation.schedule.jitterSeconds > 0 ? ` (jitter ${rotation.schedule.jitterSeconds}s)` : "";
  return `${rotation.id}  ${rotation.kind}  "${rotation.schedule.cron}"${jitter}  ${last}`;
}

/** The secret's version, the dry run's checks, one per line, and its verdict. */
export function dryRunText(result: DryRun): string {
  return [
    `secret version ${result.secretVersion}`,
    ...result.checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.check}${c.detail ? ` (${c.detail})` : ""}`),
    result.ok
      ? `rotation ${result.rotationId} can run: ${result.steps.join(" → ")}`
      : `rotation ${result.rotationId} would fail; fix the above first`,
  ].join("\n");
}

export const rotationsCommand: Command = {
  name: "rotations",
  usage: "leasehold rotations list | run <id> | dry-run <id> | runs <id> [--limit <1-100>]",
  summary: "rotations of long-lived secrets: list them, check one, start one, read its runs (admins)",
  options: { limit: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const action = positionals[1] ?? "list";
    if (action === "list") {
      const rotations = await ctx.api().rotations.list.query();
      ctx.print(
        rotations.length ? rotations.map(rotationLine).join("\n") : "no rotations configured",
        rotations,
      );
      return EXIT.ok;
    }
    if (!ACTIONS.some((a) => a === action)) {
      throw new CliError(
        `unknown rotations action "${action.slice(0, 64)}"; one of ${ACTIONS.join(", ")}`,
        EXIT.usage,
      );
    }
    const rotationId = rotationIdArg(
      required(positionals, 2, "the rotation id (see `leasehold rotations list`)"),
    );
    if (action === "run") {
      const run = await ctx.api().rotations.run.mutate({ rotationId });
      ctx.print(
        `rotation ${rotationId} started: run ${run.id}\n  follow it with: leasehold rotations runs ${rotationId}`,
        run,
      );
      return EXIT.ok;
    }
    if (action === "dry-run") {
      const result = await ctx.api().rotations.dryRun.mutate({ rotationId });
      ctx.print(dryRunText(result), result);
      // A check that fails is a finding, as `audit verify`'s: exit 1 so scripts notice.
      return result.ok ? EXIT.ok : EXIT.failure;
    }
    const limit = runsLimitArg(rotationId, option(values, "limit"));
    const runs = await ctx.api().rotations.runs.query({ rotationId, limit });
    ctx.print(runs.length ? runs.map(runLine).join("\n") : `rotation ${rotationId} has no runs yet`, runs);
    return EXIT.ok;
  },
};
