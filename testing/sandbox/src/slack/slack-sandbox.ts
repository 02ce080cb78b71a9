import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { baseUrl, closeServer, listen, readBody } from "../http/http-server.js";
import { type Args, SlackRateLimited, SlackRefusal } from "./slack-api-args.js";
import { SLACK_METHODS } from "./slack-api-methods.js";
import { issueTrigger } from "./slack-api-views.js";
import { isRecord } from "./slack-limits.js";
import { createSlackState, emptyRecords, type SlackState } from "./slack-sandbox-state.js";
import type { SlackCall, SlackFault, SlackSandbox, SlackSandboxOptions } from "./slack-sandbox-types.js";

/**
 * The Slack Web API stand-in: `POST /api/<method>` answered the way slack.com answers it (HTTP 200 with
 * `{ok: true, …}` or `{ok: false, error}`, HTTP 429 with Retry-After when rate limited), so the real
 * WebClient and Bolt run against it with `slackApiUrl: sandbox.apiUrl`. What it enforces, and what it
 * does not, is in README.md.
 */

/** Web API bodies are small; a 100-block view with long texts stays far below this. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Arguments Slack takes as JSON-encoded strings in a form body; decoded before the method sees them. */
const JSON_ARGUMENTS = ["blocks", "attachments", "view", "metadata"] as const;

/** Compares secrets in constant time regardless of their lengths. */
const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

type Received = {
  method: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
  query: string;
};
type Parsed = { args: Args; bodyToken: string | undefined };

/**
 * The call's arguments, from a form or JSON body (plus the query string). Slack reads a token from a
 * form field, but a JSON body's token only from the Authorization header.
 */
function parseArguments(request: Received): Parsed {
  const args: Args = Object.fromEntries(new URLSearchParams(request.query));
  let bodyToken: string | undefined;
  const mediaType = (request.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (request.body.length > 0) {
    if (mediaType === "application/x-www-form-urlencoded") {
      for (const [key, value] of new URLSearchParams(request.body)) args[key] = value;
      bodyToken = typeof args.token === "string" ? args.token : undefined;
    } else if (mediaType === "application/json") {
      let json: unknown;
      try {
        json = JSON.parse(request.body);
      } catch {
        throw new SlackRefusal("invalid_json");
      }
      if (!isRecord(json)) throw new SlackRefusal("invalid_json");
      Object.assign(args, json);
    } else if (mediaType === "") {
      throw new SlackRefusal("missing_post_type");
    } else if (mediaType === "multipart/form-data") {
      throw new SlackRefusal("sandbox_unsupported", {
        response_metadata: { messages: ["[ERROR] the Slack stand-in does not accept multipart bodies"] },
      });
    } else {
      throw new SlackRefusal("invalid_post_type");
    }
  }
  for (const name of JSON_ARGUMENTS) {
    const value = args[name];
    if (typeof value !== "string") continue;
    try {
      args[name] = JSON.parse(value);
    } catch {
      // Left as the string: the method refuses it (invalid_blocks_format, invalid_arguments).
    }
  }
  delete args.token;
  return { args, bodyToken };
}

function authenticate(state: SlackState, request: Received, bodyToken: string | undefined): void {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "")?.[1];
  const token = bearer ?? bodyToken;
  if (token === undefined || token === "") throw new SlackRefusal("not_authed");
  if (!sameSecret(token, state.botToken)) throw new SlackRefusal("invalid_auth");
}

/** Takes one use of the first pending fault for this method, if any. */
function takeFault(state: SlackState, method: string): SlackFault | undefined {
  const fault = state.faults.find((candidate) => candidate.times > 0 && candidate.method === method);
  if (fault === undefined) return undefined;
  fault.times -= 1;
  state.faults = state.faults.filter((candidate) => candidate.times > 0);
  return fault;
}

type Outcome = {
  status: number;
  headers: Record<string, string>;
  body: string;
  call: SlackCall;
  responseJson?: Record<string, unknown>;
  delayMs: number;
};

const json = (value: Record<string, unknown>) => JSON.stringify(value);

/** Everything between the received request and the response; never throws. */
function answer(state: SlackState, request: Received): Outcome {
  const at = state.clock();
  const { method } = request;
  let args: Args = {};
  let delayMs = 0;
  const respond = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const ok = body.ok === true;
    const error = typeof body.error === "string" ? body.error : undefined;
    return {
      status,
      headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
      body: json(body),
      responseJson: body,
      call: { method, args, ok, ...(error === undefined ? {} : { error }), status, at },
      delayMs,
    };
  };
  try {
    const parsed = parseArguments(request);
    args = parsed.args;
    const handler = Object.hasOwn(SLACK_METHODS, method) ? SLACK_METHODS[method] : undefined;
    if (handler === undefined) throw new SlackRefusal("unknown_method", { req_method: method });
    authenticate(state, request, parsed.bodyToken);
    const fault = takeFault(state, method);
    switch (fault?.kind) {
      case undefined:
        break;
      case "error":
        throw new SlackRefusal(fault.error);
      case "ratelimit":
        throw new SlackRateLimited(fault.retryAfterSeconds);
      case "http500":
        return {
          status: 500,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
          body: "Internal Server Error (injected by the Slack sandbox)",
          call: { method, args, ok: false, error: "http500", status: 500, at },
          delayMs,
        };
      case "delay":
        delayMs = fault.ms;
        break;
      default:
        fault satisfies never;
    }
    return respond(200, { ok: true, ...handler({ state, args, now: at }) });
  } catch (error) {
    if (error instanceof SlackRateLimited) {
      return respond(
        429,
        { ok: false, error: "ratelimited" },
        { "Retry-After": String(error.retryAfterSeconds) },
      );
    }
    if (error instanceof SlackRefusal) return respond(200, { ...error.extra, ok: false, error: error.code });
    console.error("slack sandbox: unexpected error", error);
    return respond(500, { ok: false, error: "fatal_error" });
  }
}

/** Every string inside a JSON-like value, depth first. */
function stringLeaves(value: unknown, into: string[] = []): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, into);
  else if (isRecord(value)) for (const item of Object.values(value)) stringLeaves(item, into);
  return into;
}

/** Starts the Slack stand-in. Close it when done (`await sandbox.close()`). */
export async function startSlackSandbox(options: SlackSandboxOptions): Promise<SlackSandbox> {
  const state = createSlackState(options);
  // Delayed answers wait on this, so close() does not leave timers behind.
  const closing = new AbortController();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const method = /^\/api\/([\w.-]+)$/.exec(path)?.[1];
    if (method === undefined) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not a Slack Web API path: use /api/<method>");
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      res.writeHead(413, { "Content-Type": "text/plain", Connection: "close" }).end("Request body too large");
      return;
    }
    const received: Received = {
      method,
      contentType: req.headers["content-type"],
      authorization: req.headers.authorization,
      body: body.toString("utf8"),
      query,
    };
    const outcome = answer(state, received);
    state.calls.push(outcome.call);
    state.payloads.push(
      received.query,
      received.body,
      ...stringLeaves(outcome.call.args),
      outcome.body,
      ...stringLeaves(outcome.responseJson),
    );
    if (outcome.delayMs > 0) await sleep(outcome.delayMs, closing.signal);
    if (res.destroyed) return;
    res.writeHead(outcome.status, outcome.headers).end(outcome.body);
  }

  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, options.port ?? 0, host);
  const url = baseUrl(host, port);
  return {
    url,
    apiUrl: `${url}/api/`,
    port,
    botUserId: state.botUserId,
    teamId: state.teamId,
    get calls() {
      return state.calls;
    },
    messages(channelId) {
      if (!state.channels.has(channelId)) {
        throw new Error(
          `The Slack sandbox has no channel or DM "${channelId}" (for a user's DM, use dmChannelOf)`,
        );
      }
      return state.messages.get(channelId) ?? [];
    },
    get ephemerals() {
      return state.ephemerals;
    },
    get views() {
      return state.views;
    },
    dmChannelOf(userId) {
      const dm = state.dmOfUser.get(userId);
      if (dm === undefined) throw new Error(`The Slack sandbox has no user "${userId}"`);
      return dm.id;
    },
    newTriggerId: (userId) => issueTrigger(state, userId),
    allPayloadsText: () => state.payloads.filter((text) => text !== "").join("\n"),
    injectFault(fault) {
      if (!Number.isInteger(fault.times) || fault.times < 1) throw new Error("A fault needs times ≥ 1");
      state.faults.push({ ...fault });
    },
    reset() {
      Object.assign(state, emptyRecords());
    },
    async close() {
      closing.abort();
      await closeServer(server);
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
