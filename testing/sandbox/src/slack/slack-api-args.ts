/** What every Slack Web API handler shares: its signature, its arguments and how it refuses. */

import type { SlackState } from "./slack-sandbox-state.js";

/** Slack's `{ok: false, error}` answer, with any extra fields (`errors`, `response_metadata`). */
export class SlackRefusal extends Error {
  override readonly name = "SlackRefusal";
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

/** HTTP 429 with `Retry-After: retryAfterSeconds`. */
export class SlackRateLimited extends Error {
  override readonly name = "SlackRateLimited";
  constructor(readonly retryAfterSeconds: number) {
    super("ratelimited");
  }
}

/** A refusal carrying Slack's `response_metadata.messages` (each "[ERROR] …"), and `errors` when Slack sends them. */
export const refusalWithMessages = (code: string, problems: readonly string[], withErrors: boolean) =>
  new SlackRefusal(code, {
    ...(withErrors ? { errors: [...problems] } : {}),
    response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
  });

export type Args = Record<string, unknown>;
export type Context = { state: SlackState; args: Args; now: Date };
export type Handler = (context: Context) => Record<string, unknown>;

/** A string argument; numbers are accepted as their decimal text (JSON bodies may carry ts as a number). */
export function stringArg(args: Args, name: string): string | undefined {
  const value = args[name];
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

export const requireArg = (args: Args, name: string): string => {
  const value = stringArg(args, name);
  if (value === undefined || value === "") {
    throw refusalWithMessages("invalid_arguments", [`missing required field: ${name}`], false);
  }
  return value;
};
