import type { ParseArgsConfig } from "node:util";
import { type Api, createApi } from "./api-client.js";
import { currentBearer } from "./bearer-token.js";
import type { CliEnv } from "./env.js";
import { CliError, EXIT } from "./exit-codes.js";
import { type StoredLogin, writeTokenFile } from "./token-file.js";

/** What a command gets: settings, output, and an authenticated API client on demand. */
export type CliContext = {
  readonly env: CliEnv;
  readonly json: boolean;
  /** Prints a result: the human text, or the data as JSON with --json. */
  print(human: string, data: unknown): void;
  /** A progress line for people (stderr; rewritten in place on a terminal); never in --json output. */
  status(line: string): void;
  api(): Api;
  /** Stores a login in the token file (mode 0600). */
  saveLogin(login: StoredLogin): void;
};

export type Command = {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  /** Returns the exit code (default 0). */
  run(
    ctx: CliContext,
    args: { positionals: string[]; values: Record<string, unknown> },
  ): Promise<number | undefined>;
};

export function createContext(env: CliEnv, json: boolean): CliContext {
  let lastStatus = "";
  return {
    env,
    json,
    print(human, data) {
      if (lastStatus && process.stderr.isTTY) process.stderr.write("\n");
      lastStatus = "";
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
    },
    status(line) {
      if (json || line === lastStatus) return;
      lastStatus = line;
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
      else process.stderr.write(`${line}\n`);
    },
    api: () => createApi(env.url, () => currentBearer(env)),
    saveLogin: (login) => writeTokenFile(env.tokenFile, login),
  };
}

/** A positional argument that must be there. */
export function required(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (!value) throw new CliError(`missing ${what}`, EXIT.usage);
  return value;
}

/** A string option, or undefined. */
export const option = (values: Record<string, unknown>, name: string): string | undefined =>
  typeof values[name] === "string" ? (values[name] as string) : undefined;
