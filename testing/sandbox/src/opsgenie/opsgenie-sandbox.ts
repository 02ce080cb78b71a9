import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { baseUrl, closeServer, listen, sleepUnlessAborted } from "../http/http-server.js";
import { type Answer, getIncident, getUser, listIncidents, onCalls } from "./opsgenie-routes.js";
import type {
  OpsgenieIncidentRecord,
  OpsgenieIncidentStatus,
  OpsgenieSandbox,
  OpsgenieSandboxOptions,
} from "./opsgenie-sandbox-types.js";
import {
  addIncident,
  createOpsgenieState,
  type OpsgenieState,
  takeFault,
  toShifts,
} from "./opsgenie-state.js";
import { authenticate, notFound, OpsgenieRefusal } from "./opsgenie-wire.js";

/**
 * The Opsgenie API stand-in: who is on call for a schedule, users by username, and the v1 Incident API's
 * list and get, answered in Opsgenie's envelope (contracts wave2 §8). Opsgenie's outgoing webhooks are
 * not signed, so Leasehold polls; the stand-in sends none. README.md says what it enforces.
 */

type Outcome = { status: number; headers: Record<string, string>; body: string; delayMs: number };
type Route = { name: string; run: (ctx: Parameters<typeof onCalls>[0]) => Answer };

const IDENTIFIER = "([^/]{1,200})";

function route(path: string): Route | undefined {
  const decode = (raw: string) => {
    try {
      return decodeURIComponent(raw);
    } catch {
      throw notFound("Could not find a handler for the request");
    }
  };
  const schedule = new RegExp(`^/v2/schedules/${IDENTIFIER}/on-calls$`).exec(path)?.[1];
  if (schedule !== undefined) {
    return { name: "/v2/schedules/{identifier}/on-calls", run: (ctx) => onCalls(ctx, decode(schedule)) };
  }
  const user = new RegExp(`^/v2/users/${IDENTIFIER}$`).exec(path)?.[1];
  if (user !== undefined) return { name: "/v2/users/{identifier}", run: (ctx) => getUser(ctx, decode(user)) };
  if (path === "/v1/incidents" || path === "/v1/incidents/")
    return { name: "/v1/incidents", run: listIncidents };
  const incident = new RegExp(`^/v1/incidents/${IDENTIFIER}$`).exec(path)?.[1];
  if (incident !== undefined) {
    return { name: "/v1/incidents/{identifier}", run: (ctx) => getIncident(ctx, decode(incident)) };
  }
  return undefined;
}

/** Applies a pending fault: throws its refusal, or returns the delay to add to the normal answer (ms). */
function faultDelay(state: OpsgenieState, name: string): number {
  const fault = takeFault(state, name);
  switch (fault?.kind) {
    case undefined:
      return 0;
    case "delay":
      return fault.ms;
    case "http500":
      throw new OpsgenieRefusal(500, "Internal Server Error");
    case "ratelimit":
      throw new OpsgenieRefusal(
        429,
        "You are making too many requests! To avoid errors, we recommend you limit requests.",
        undefined,
        {
          "X-RateLimit-State": "THROTTLED",
          "X-RateLimit-Reason": "INTEGRATION",
          "X-RateLimit-Period-In-Sec": String(fault.periodSeconds ?? 60),
        },
      );
    default:
      return fault satisfies never;
  }
}

function answer(state: OpsgenieState, apiUrl: string, req: IncomingMessage, requestId: string): Outcome {
  const startedAt = process.hrtime.bigint();
  const url = new URL(req.url ?? "/", "http://sandbox");
  let delayMs = 0;
  const took = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
  const headers = (extra: Record<string, string> = {}) => ({
    "Content-Type": "application/json; charset=utf-8",
    "X-Request-ID": requestId,
    "X-Response-Time": took().toFixed(3),
    ...extra,
  });
  try {
    authenticate(req.headers.authorization, state.apiKey, state.keysWithoutPermission);
    const matched = route(url.pathname);
    if (matched === undefined || req.method !== "GET")
      throw notFound("Could not find a handler for the request");
    delayMs = faultDelay(state, matched.name);
    const result = matched.run({ state, apiUrl, query: url.searchParams });
    const body = { data: result.data, ...result.extra, took: took(), requestId };
    return { status: 200, headers: headers(result.headers), body: JSON.stringify(body), delayMs };
  } catch (error) {
    if (error instanceof OpsgenieRefusal) {
      const code = error.code === undefined ? {} : { code: error.code };
      const body = { ...code, message: error.message, took: took(), requestId };
      return { status: error.status, headers: headers(error.headers), body: JSON.stringify(body), delayMs };
    }
    console.error("opsgenie sandbox: unexpected error", error);
    const body = { message: "Internal Server Error", took: took(), requestId };
    return { status: 500, headers: headers(), body: JSON.stringify(body), delayMs };
  }
}

/** Starts the Opsgenie stand-in. Close it when done (`await sandbox.close()`). */
export async function startOpsgenieSandbox(options: OpsgenieSandboxOptions): Promise<OpsgenieSandbox> {
  const state = createOpsgenieState(options);
  const closing = new AbortController();
  const host = options.host ?? "127.0.0.1";
  let apiUrl = "";

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const outcome = answer(state, apiUrl, req, randomUUID());
    const url = new URL(req.url ?? "/", "http://sandbox");
    state.calls.push({
      method: req.method ?? "",
      path: url.pathname,
      query: [...url.searchParams.entries()],
      status: outcome.status,
      at: state.clock(),
    });
    if (outcome.delayMs > 0) await sleepUnlessAborted(outcome.delayMs, closing.signal);
    if (res.destroyed) return;
    res.writeHead(outcome.status, outcome.headers).end(outcome.body);
  }

  const port = await listen(server, options.port ?? 0, host);
  apiUrl = baseUrl(host, port);
  const setStatus = (id: string, status: OpsgenieIncidentStatus): OpsgenieIncidentRecord => {
    const incident = state.incidents.get(id);
    if (incident === undefined) throw new Error(`The Opsgenie sandbox has no incident "${id}"`);
    incident.status = status;
    incident.updatedAt = state.clock();
    return incident;
  };
  return {
    url: apiUrl,
    port,
    get calls() {
      return state.calls;
    },
    setShifts(scheduleName, shifts) {
      const schedule = state.schedules.find((candidate) => candidate.name === scheduleName);
      if (schedule === undefined) throw new Error(`The Opsgenie sandbox has no schedule "${scheduleName}"`);
      schedule.shifts = toShifts(state, shifts);
    },
    openIncident: (incident) => addIncident(state, incident),
    resolveIncident: (id) => setStatus(id, "resolved"),
    closeIncident: (id) => setStatus(id, "closed"),
    incident: (id) => state.incidents.get(id),
    injectFault(fault) {
      if (!Number.isInteger(fault.times) || fault.times < 1) throw new Error("A fault needs times ≥ 1");
      state.faults.push({ ...fault });
    },
    async close() {
      closing.abort();
      await closeServer(server);
    },
  };
}
