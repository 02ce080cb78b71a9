import type { Command } from "../cli-context.js";
import { EXIT } from "../exit-codes.js";

export const whoamiCommand: Command = {
  name: "whoami",
  usage: "leasehold whoami",
  summary: "who the stored token says you are",
  options: {},
  async run(ctx) {
    const me = await ctx.api().me.query();
    ctx.print(
      `${me.id} (${me.kind}, ${me.provider}${me.groups.length ? `; groups: ${me.groups.join(", ")}` : ""})`,
      me,
    );
    return EXIT.ok;
  },
};

export const targetsCommand: Command = {
  name: "targets",
  usage: "leasehold targets",
  summary: "the targets you may request",
  options: {},
  async run(ctx) {
    const targets = await ctx.api().targets.list.query();
    const lines = targets.flatMap((t) => [
      `${t.id.padEnd(24)} ${t.kind.padEnd(9)} up to ${Math.round(t.maxDurationSeconds / 60)}m, ${t.requiredApprovals} approval(s)${
        t.ticket.required ? ", ticket required" : ""
      }${t.description ? `  ${t.description}` : ""}`,
      // The scopes on offer, for `leasehold request <target> --scope <name>`.
      ...t.scopes.map(
        (scope) =>
          `  --scope ${scope.name}${t.defaultScopes.includes(scope.name) ? " (default)" : ""}${
            scope.description ? `  ${scope.description}` : ""
          }`,
      ),
    ]);
    ctx.print(lines.length ? lines.join("\n") : "no targets you may request", targets);
    return EXIT.ok;
  },
};
