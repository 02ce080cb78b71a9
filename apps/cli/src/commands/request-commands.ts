import { formatDuration, parseDuration } from "@leasehold/domain";
import type { Api } from "../api-client.js";
import { type CliContext, type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

const POLL_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const parseFor = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined)
    throw new CliError(`--for takes a duration like 15m, 1h or 1h30m, not "${text}"`, EXIT.usage);
  return seconds;
};

/** The repeated --scope values; the API checks names, bounds and duplicates. */
const scopesOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/** Follows a request's grant until it is active (or ends), showing where it stands. */
async function followGrant(ctx: CliContext, api: Api, targetId: string, requestId: string): Promise<number> {
  for (;;) {
    const grants = await api.grants.list.query({ limit: 50 });
    const grant = grants.find((g) => g.requestId === requestId);
    if (grant?.state === "active") {
      ctx.print(
        `access to ${targetId} is active until ${grant.expiresAt}\n  leasehold creds ${grant.id}\n  leasehold exec ${grant.id} -- <command>`,
        grant,
      );
      return EXIT.ok;
    }
    if (grant && grant.state !== "issuing") {
      ctx.print(`the grant is ${grant.state}${grant.lastError ? `: ${grant.lastError}` : ""}`, grant);
      return EXIT.noAccess;
    }
    // While a backend is down the grant keeps waiting; its last error says why.
    ctx.status(`approved; issuing ${targetId}…${grant?.lastError ? ` (waiting: ${grant.lastError})` : ""}`);
    await sleep(POLL_MS);
  }
}

/** `request … --break-glass`: access at once, without approval, for whom policy allows it. */
async function breakGlass(
  ctx: CliContext,
  input: {
    targetId: string;
    reason: string;
    durationSeconds: number | undefined;
    ticket: string | undefined;
  },
  wait: boolean,
): Promise<number> {
  const api = ctx.api();
  const result = await api.requests.breakGlass.mutate({
    targetId: input.targetId,
    reason: input.reason,
    ...(input.durationSeconds !== undefined ? { durationSeconds: input.durationSeconds } : {}),
    ...(input.ticket ? { ticket: input.ticket } : {}),
  });
  const line = `BREAK-GLASS: ${input.targetId} activated for ${formatDuration(result.durationSeconds)} without approval (request ${result.id}, grant ${result.grantId}).\nIt has been announced to the approvers and must be reviewed; until it is, you cannot break glass again.`;
  if (!wait) {
    ctx.print(line, result);
    return EXIT.ok;
  }
  ctx.status(line);
  return followGrant(ctx, api, input.targetId, result.id);
}

export const requestCommand: Command = {
  name: "request",
  usage:
    "leasehold request <target> --reason <text> [--for 1h] [--ticket OPS-1] [--scope <name>]... [--wait] [--break-glass]",
  summary:
    "ask for access; with --wait, follow it until the credentials are ready; --break-glass: at once, no approval (broadcast and reviewed)",
  options: {
    reason: { type: "string" },
    for: { type: "string" },
    ticket: { type: "string" },
    /** Repeatable: one scope per --scope (see `leasehold targets`); none: the target's defaults. */
    scope: { type: "string", multiple: true },
    wait: { type: "boolean" },
    "break-glass": { type: "boolean" },
  },
  async run(ctx, { positionals, values }) {
    const targetId = required(positionals, 1, "the target (see `leasehold targets`)");
    const reason = option(values, "reason");
    if (!reason) throw new CliError("say why with --reason", EXIT.usage);
    const durationSeconds = parseFor(option(values, "for"));
    const ticket = option(values, "ticket");
    const scopes = scopesOf(values.scope);
    if (values["break-glass"]) {
      if (scopes.length > 0)
        throw new CliError("a break-glass takes the target's default scopes; leave out --scope", EXIT.usage);
      return breakGlass(ctx, { targetId, reason, durationSeconds, ticket }, values.wait === true);
    }
    const api = ctx.api();
    const request = await api.requests.create.mutate({
      targetId,
      reason,
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      ...(ticket ? { ticket } : {}),
      ...(scopes.length > 0 ? { scopes } : {}),
    });
    if (!values.wait) {
      const scoped = request.scopes.length > 0 ? ` (scopes: ${request.scopes.join(", ")})` : "";
      // Approved by policy (on call, an incident, a pre-approval window), or why not when it could be.
      const auto = request.autoApproval;
      const where =
        request.state === "approved"
          ? (auto?.message ?? "approved")
          : `waiting for ${request.approvalsNeeded} approval(s)${auto ? ` (${auto.message})` : ""}`;
      ctx.print(
        `requested ${targetId}${scoped} for ${formatDuration(request.durationSeconds)}: ${request.id}\n${where}`,
        request,
      );
      return EXIT.ok;
    }
    // Follow the request, then its grant, showing where it stands.
    for (;;) {
      const current = await api.requests.get.query({ requestId: request.id });
      if (current.state === "pending") {
        // The id is on the line, so the requester can pass it to the approvers.
        ctx.status(
          `request ${request.id}: waiting for ${current.approvalsNeeded} more approval(s) on ${targetId}…`,
        );
      } else if (current.state === "approved") {
        break;
      } else {
        ctx.print(`request ${current.state}`, current);
        return EXIT.noAccess;
      }
      await sleep(POLL_MS);
    }
    return followGrant(ctx, api, targetId, request.id);
  },
};

const review = (decision: "approve" | "deny"): Command => ({
  name: decision,
  usage: `leasehold ${decision} <request-id>${decision === "deny" ? " --comment <why>" : " [--comment <text>]"}`,
  summary: decision === "approve" ? "approve a request you may review" : "deny a request, saying why",
  options: { comment: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const requestId = required(positionals, 1, "the request id");
    const comment = option(values, "comment");
    if (decision === "deny" && !comment) throw new CliError("say why with --comment", EXIT.usage);
    const result = await ctx
      .api()
      .reviews.submit.mutate({ requestId, decision, ...(comment ? { comment } : {}) });
    const state = result.request.state;
    ctx.print(
      state === "pending"
        ? `${decision === "approve" ? "approved" : "denied"}; ${result.request.approvalsNeeded} more approval(s) needed`
        : `request ${state}${result.grantId ? `; grant ${result.grantId} is being issued` : ""}`,
      result,
    );
    return EXIT.ok;
  },
});

export const approveCommand = review("approve");
export const denyCommand = review("deny");

export const requestsCommand: Command = {
  name: "requests",
  usage: "leasehold requests [--to-review]",
  summary: "your requests, or those waiting for your review",
  options: { "to-review": { type: "boolean" } },
  async run(ctx, { values }) {
    const view = values["to-review"] ? "to-review" : "mine";
    const requests = await ctx.api().requests.list.query({ view, limit: 50 });
    const lines = requests.map(
      (r) =>
        `${r.id}  ${r.state.padEnd(9)} ${r.targetId.padEnd(20)} ${formatDuration(r.durationSeconds).padEnd(6)} ${
          view === "to-review" ? `${r.requesterId}: ` : ""
        }${r.reason.split("\n")[0]}${r.scopes.length > 0 ? `  [scopes: ${r.scopes.join(", ")}]` : ""}`,
    );
    ctx.print(lines.length ? lines.join("\n") : "nothing here", requests);
    return EXIT.ok;
  },
};

export const cancelCommand: Command = {
  name: "cancel",
  usage: "leasehold cancel <request-id>",
  summary: "withdraw your pending request",
  options: {},
  async run(ctx, { positionals }) {
    const result = await ctx
      .api()
      .requests.cancel.mutate({ requestId: required(positionals, 1, "the request id") });
    ctx.print(`request ${result.state}`, result);
    return EXIT.ok;
  },
};

export { parseFor };
