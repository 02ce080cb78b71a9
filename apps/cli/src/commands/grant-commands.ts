import { spawn } from "node:child_process";
import { formatDuration } from "@leasehold/domain";
import type { Api } from "../api-client.js";
import { type Command, option, required } from "../cli-context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { parseFor } from "./request-commands.js";

type Delivered = Awaited<ReturnType<Api["grants"]["credentials"]["mutate"]>>;

/**
 * Environment variables for a credential, by its kind: AWS's own names for AWS sessions, LEASEHOLD_*
 * names (LEASEHOLD_USERNAME, LEASEHOLD_PASSWORD, LEASEHOLD_URL, …) for database logins.
 */
export function credentialEnv(delivered: Delivered): Record<string, string> {
  const c = delivered.credential;
  switch (c.kind) {
    case "aws-session":
      return {
        AWS_ACCESS_KEY_ID: c.accessKeyId,
        AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
        AWS_SESSION_TOKEN: c.sessionToken,
        AWS_CREDENTIAL_EXPIRATION: delivered.expiresAt,
      };
    case "database": {
      const { kind: _kind, ...fields } = c;
      return Object.fromEntries(
        Object.entries(fields)
          .filter((entry): entry is [string, string] => entry[1] !== undefined)
          .map(([key, value]) => [`LEASEHOLD_${key.replace(/[A-Z]/g, (l) => `_${l}`).toUpperCase()}`, value]),
      );
    }
  }
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'"'"'`)}'`;

export const credsCommand: Command = {
  name: "creds",
  usage: "leasehold creds <grant-id> [--format env|json]",
  summary: "print the grant's credentials (env: for eval in a shell); every read is audited",
  options: { format: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const format = option(values, "format") ?? (ctx.json ? "json" : "env");
    if (format !== "env" && format !== "json") throw new CliError("--format is env or json", EXIT.usage);
    const delivered = await ctx
      .api()
      .grants.credentials.mutate({ grantId: required(positionals, 1, "the grant id") });
    if (format === "json") process.stdout.write(`${JSON.stringify(delivered, null, 2)}\n`);
    else {
      const lines = Object.entries(credentialEnv(delivered)).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return EXIT.ok;
  },
};

export const credentialProcessCommand: Command = {
  name: "credential-process",
  usage: "leasehold credential-process <grant-id>",
  summary: "the grant's AWS credentials in the format of ~/.aws/config's credential_process",
  options: {},
  async run(ctx, { positionals }) {
    const delivered = await ctx
      .api()
      .grants.credentials.mutate({ grantId: required(positionals, 1, "the grant id") });
    const c = delivered.credential;
    if (c.kind !== "aws-session") throw new CliError("this grant is not an AWS session", EXIT.usage);
    // The exact shape the AWS CLI and SDKs read (Version 1).
    process.stdout.write(
      `${JSON.stringify({
        Version: 1,
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        SessionToken: c.sessionToken,
        Expiration: delivered.expiresAt,
      })}\n`,
    );
    return EXIT.ok;
  },
};

export const execCommand: Command = {
  name: "exec",
  usage: "leasehold exec <grant-id> -- <command> [args…]",
  summary: "run a command with the grant's credentials in its environment only",
  options: {},
  async run(ctx, { positionals }) {
    const grantId = required(positionals, 1, "the grant id");
    const [program, ...args] = positionals.slice(2);
    if (!program) throw new CliError("give the command to run after --", EXIT.usage);
    const delivered = await ctx.api().grants.credentials.mutate({ grantId });
    const child = spawn(program, args, {
      stdio: "inherit",
      env: { ...ctx.env.childEnv, ...credentialEnv(delivered) },
    });
    return new Promise<number>((resolve, reject) => {
      child.on("error", (error) =>
        reject(new CliError(`cannot run ${program}: ${error.message}`, EXIT.usage)),
      );
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + 15 : EXIT.failure)));
    });
  },
};

export const extendCommand: Command = {
  name: "extend",
  usage: "leasehold extend <grant-id> --by 30m",
  summary: "move your grant's deadline (within the target's maximum); fetch the credentials again after",
  options: { by: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const by = parseFor(option(values, "by"));
    if (by === undefined) throw new CliError("say how long with --by, like --by 30m", EXIT.usage);
    const grant = await ctx
      .api()
      .grants.extend.mutate({ grantId: required(positionals, 1, "the grant id"), extendBySeconds: by });
    ctx.print(`extended until ${grant.expiresAt}`, grant);
    return EXIT.ok;
  },
};

export const revokeCommand: Command = {
  name: "revoke",
  usage: "leasehold revoke <grant-id> [--reason <text>]",
  summary: "end a grant now",
  options: { reason: { type: "string" } },
  async run(ctx, { positionals, values }) {
    const reason = option(values, "reason");
    const grant = await ctx.api().grants.revoke.mutate({
      grantId: required(positionals, 1, "the grant id"),
      ...(reason ? { reason } : {}),
    });
    ctx.print(`grant ${grant.id} is ${grant.state}`, grant);
    return EXIT.ok;
  },
};

export const leasesCommand: Command = {
  name: "leases",
  usage: "leasehold leases",
  summary: "your grants and leases, newest first",
  options: {},
  async run(ctx) {
    const grants = await ctx.api().grants.list.query({ limit: 50 });
    const lines = grants.map(
      (g) =>
        `${g.id}  ${g.state.padEnd(17)} ${g.targetId.padEnd(20)} ${
          g.expiresAt ? `until ${g.expiresAt}` : formatDuration(g.durationSeconds)
        }`,
    );
    ctx.print(lines.length ? lines.join("\n") : "no grants", grants);
    return EXIT.ok;
  },
};
