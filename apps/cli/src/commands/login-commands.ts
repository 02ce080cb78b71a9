import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CliContext, type Command, option } from "../cli-context.js";
import { type DevicePrompt, deviceLogin } from "../device-login.js";
import { CliError, EXIT } from "../exit-codes.js";
import { fetchCliLoginSettings } from "../identity-provider.js";
import { deleteTokenFile, loginFromToken, type StoredLogin } from "../token-file.js";

const readStdin = async () => {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
};

/** A token someone brought: one of local mode's seeded people, a file, or stdin. */
async function broughtToken(ctx: CliContext, values: Record<string, unknown>): Promise<string> {
  const local = option(values, "local");
  const file = option(values, "token-file");
  if (local) {
    if (!/^[a-z]+$/.test(local))
      throw new CliError("--local takes a person's name like dev or alice", EXIT.usage);
    const path = join(ctx.env.dataDir, "tokens", `${local}.jwt`);
    try {
      return readFileSync(path, "utf8").trim();
    } catch {
      throw new CliError(
        `no local token for ${local} in ${path}; is \`pnpm start\` running here?`,
        EXIT.usage,
      );
    }
  }
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      throw new CliError(`cannot read ${file}`, EXIT.usage);
    }
  }
  return readStdin();
}

/** Shows where to sign in: always on stderr (never mixed into results), and as a JSON line with --json. */
function showPrompt(ctx: CliContext, prompt: DevicePrompt): void {
  const minutes = Math.max(1, Math.round(prompt.expiresInSeconds / 60));
  process.stderr.write(
    [
      `To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}`,
      ...(prompt.verificationUriComplete ? [`(or open ${prompt.verificationUriComplete})`] : []),
      `The code works for about ${minutes} minute(s). Waiting for the sign-in…`,
      "",
    ].join("\n"),
  );
  if (ctx.json) process.stdout.write(`${JSON.stringify(prompt)}\n`);
}

export const loginCommand: Command = {
  name: "login",
  usage: "leasehold login [--local <person> | --token-file <file> | --token-stdin]",
  summary: "sign in with your identity provider (device code), or store a token you bring",
  options: {
    local: { type: "string" },
    "token-file": { type: "string" },
    "token-stdin": { type: "boolean" },
  },
  async run(ctx, { values }) {
    const sources = [option(values, "local"), option(values, "token-file"), values["token-stdin"]].filter(
      Boolean,
    );
    if (sources.length > 1) {
      throw new CliError(
        "give at most one of --local <person>, --token-file <file> or --token-stdin",
        EXIT.usage,
      );
    }
    let login: StoredLogin;
    if (sources.length === 1) {
      login = loginFromToken(await broughtToken(ctx, values));
    } else {
      const settings = await fetchCliLoginSettings(ctx.env.url);
      login = await deviceLogin(settings, (prompt) => showPrompt(ctx, prompt));
    }
    ctx.saveLogin(login);
    const me = await ctx.api().me.query();
    ctx.print(
      `logged in as ${me.id} (${me.provider}${me.groups.length ? `; groups: ${me.groups.join(", ")}` : ""})`,
      me,
    );
    return EXIT.ok;
  },
};

export const logoutCommand: Command = {
  name: "logout",
  usage: "leasehold logout",
  summary: "forget the stored sign-in (deletes the token file)",
  options: {},
  async run(ctx) {
    const deleted = deleteTokenFile(ctx.env.tokenFile);
    ctx.print(deleted ? "logged out" : "you were not logged in", { loggedOut: deleted });
    return EXIT.ok;
  },
};
