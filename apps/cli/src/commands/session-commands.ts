import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, option } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";

const readStdin = async () => {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
};

export const loginCommand: Command = {
  name: "login",
  usage: "leasehold login (--local <person> | --token-file <file> | --token-stdin)",
  summary: "store the OIDC token the CLI sends (local mode: one of its seeded people)",
  options: {
    local: { type: "string" },
    "token-file": { type: "string" },
    "token-stdin": { type: "boolean" },
  },
  async run(ctx, { values }) {
    const local = option(values, "local");
    const file = option(values, "token-file");
    const sources = [local, file, values["token-stdin"] ? "stdin" : undefined].filter(Boolean);
    if (sources.length !== 1) {
      throw new CliError(
        "give exactly one of --local <person>, --token-file <file> or --token-stdin",
        EXIT.usage,
      );
    }
    let token: string;
    if (local) {
      if (!/^[a-z]+$/.test(local))
        throw new CliError("--local takes a person's name like dev or alice", EXIT.usage);
      const path = join(ctx.env.dataDir, "tokens", `${local}.jwt`);
      try {
        token = readFileSync(path, "utf8").trim();
      } catch {
        throw new CliError(
          `no local token for ${local} in ${path}; is \`pnpm start\` running here?`,
          EXIT.usage,
        );
      }
    } else if (file) {
      token = readFileSync(file, "utf8").trim();
    } else {
      token = await readStdin();
    }
    if (token.split(".").length !== 3) throw new CliError("that is not a JWT", EXIT.usage);
    ctx.saveToken(token);
    const me = await ctx.api().me.query();
    ctx.print(
      `logged in as ${me.id} (${me.provider}${me.groups.length ? `; groups: ${me.groups.join(", ")}` : ""})`,
      me,
    );
    return EXIT.ok;
  },
};

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
