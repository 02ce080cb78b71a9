#!/usr/bin/env node
import { parseArgs } from "node:util";
import { explainError } from "./api-client.js";
import { type Command, createContext } from "./cli-context.js";
import { auditCommand } from "./commands/audit-commands.js";
import { breakGlassCommand } from "./commands/break-glass-commands.js";
import {
  credentialProcessCommand,
  credsCommand,
  execCommand,
  extendCommand,
  leasesCommand,
  revokeCommand,
} from "./commands/grant-commands.js";
import { loginCommand, logoutCommand } from "./commands/login-commands.js";
import { approversCommand, policyCommand } from "./commands/policy-commands.js";
import { preapprovalsCommand, preapproveCommand } from "./commands/pre-approval-commands.js";
import { reportCommand } from "./commands/report-commands.js";
import {
  approveCommand,
  cancelCommand,
  denyCommand,
  requestCommand,
  requestsCommand,
} from "./commands/request-commands.js";
import { rotationsCommand } from "./commands/rotation-commands.js";
import { targetsCommand, whoamiCommand } from "./commands/session-commands.js";
import { readCliEnv } from "./env.js";
import { CliError, EXIT } from "./exit-codes.js";

const COMMANDS: readonly Command[] = [
  loginCommand,
  logoutCommand,
  whoamiCommand,
  targetsCommand,
  requestCommand,
  requestsCommand,
  approveCommand,
  denyCommand,
  cancelCommand,
  preapproveCommand,
  preapprovalsCommand,
  breakGlassCommand,
  credsCommand,
  execCommand,
  credentialProcessCommand,
  extendCommand,
  revokeCommand,
  leasesCommand,
  auditCommand,
  reportCommand,
  rotationsCommand,
  policyCommand,
  approversCommand,
];

const GLOBAL = new Set(["--json", "--help", "-h"]);

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "leasehold: just-in-time access from the terminal",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Add --json to any command for machine-readable output. LEASEHOLD_URL says where the API is.",
    "Exit codes: 0 ok, 1 failure, 2 usage (also: login on a server with no sign-in configured), 3 not logged",
    "in (also: sign-in expired, or a login whose code expired or was denied), 4 forbidden, 5 not found,",
    "6 conflict, 7 Leasehold, the identity provider or a backend unavailable, 8 no access (denied, expired,",
    "failed), 78 leasehold.yaml, a policy or a cases file is invalid; exec exits with its command's code.",
    "`policy` and `approvers` read leasehold.yaml ($LEASEHOLD_CONFIG or --config) and never call the API.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const name = argv.find((a) => !GLOBAL.has(a));
  if (!name || argv.includes("--help") || argv.includes("-h")) {
    const command = COMMANDS.find((c) => c.name === name);
    process.stdout.write(`${command ? `usage: ${command.usage}\n${command.summary}` : help()}\n`);
    return name && !command ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new CliError(`unknown command "${name}"; run \`leasehold --help\``, EXIT.usage);
  const env = readCliEnv();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.filter((a) => a !== "--json"),
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: ${command.usage}`, EXIT.usage);
  }
  const ctx = createContext(env, json);
  try {
    return (await command.run(ctx, { positionals: parsed.positionals, values: parsed.values })) ?? EXIT.ok;
  } catch (error) {
    throw explainError(error, env.url);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const failure = error instanceof CliError ? error : new CliError(String(error), EXIT.failure);
    process.stderr.write(`leasehold: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  },
);
