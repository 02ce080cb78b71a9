import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { baseUrl, closeServer, listen, sleepUnlessAborted } from "../http/http-server.js";
import { getIncident, listIncidents, listOnCalls, listUsers } from "./pagerduty-routes.js";
import type {
  PagerDutyIncidentRecord,
  PagerDutySandbox,
  PagerDutySandboxOptions,
} from "./pagerduty-sandbox-types.js";
import {
  addIncident,
  createPagerDutyState,
  type PagerDutyState,
  takeFault,
  toShift,
} from "./pagerduty-state.js";
import { deliverWebhook, incidentEventBody } from "./pagerduty-webhook-sender.js";
import { authenticate, checkVersionHeader, notFound, PagerDutyRefusal, pdError } from "./pagerduty-wire.js";

/**
 * The PagerDuty REST API v2 stand-in: `GET /oncalls`, `/users`, `/incidents`, `/incidents/{id}` answered
 * as api.pagerduty.com answers them (contracts wave2 §7), plus devices to change who is on call, move
 * incidents through their states and send signed Webhooks v3 events. README.md says what it enforces.
 */

type Outcome = { status: number; headers: Record<string, string>; body: string | undefined; delayMs: number };

const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };

/** The route for a path, and its name for fault targeting. */
function route(path: string): { name: string; id?: string } | undefined {
  if (path === "/oncalls" || path === "/users" || path === "/incidents") return { name: path };
  const id = /^\/incidents\/([A-Za-z0-9]{1,64})$/.exec(path)?.[1];
  return id === undefined ? undefined : { name: "/incidents/{id}", id };
}

/** Applies a pending fault: throws its refusal, or returns the delay to add to the normal answer (ms). */
function faultDelay(state: PagerDutyState, name: string): number {
  const fault = takeFault(state, name);
  switch (fault?.kind) {
    case undefined:
      return 0;
    case "delay":
      return fault.ms;
    case "http500":
      throw pdError(500, 2000, "Internal Server Error");
    case "ratelimit": {
      if (fault.bare === true) throw new PagerDutyRefusal(429, undefined);
      const reset = String(fault.resetSeconds ?? 30);
      throw new PagerDutyRefusal(
        429,
        { error: { message: "Rate Limit Exceeded", code: 2020 } },
        { "ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": reset },
      );
    }
    default:
      return fault satisfies never;
  }
}

function answer(state: PagerDutyState, apiUrl: string, req: IncomingMessage): Outcome {
  const url = new URL(req.url ?? "/", "http://sandbox");
  let delayMs = 0;
  try {
    authenticate(req.headers.authorization, state.token, state.bearerTokens);
    checkVersionHeader(req.headers.accept, state.requireVersionHeader);
    const matched = route(url.pathname);
    if (matched === undefined || req.method !== "GET") throw notFound();
    delayMs = faultDelay(state, matched.name);
    const ctx = { state, apiUrl, query: url.searchParams };
    const body =
      matched.name === "/oncalls"
        ? listOnCalls(ctx)
        : matched.name === "/users"
          ? listUsers(ctx)
          : matched.id !== undefined
            ? getIncident(ctx, matched.id)
            : listIncidents(ctx);
    return {
      status: 200,
      headers: {
        ...JSON_TYPE,
        "ratelimit-limit": "960",
        "ratelimit-remaining": "959",
        "ratelimit-reset": "60",
      },
      body: JSON.stringify(body),
      delayMs,
    };
  } catch (error) {
    if (error instanceof PagerDutyRefusal) {
      const headers = error.body === undefined ? error.headers : { ...JSON_TYPE, ...error.headers };
      const body = error.body === undefined ? undefined : JSON.stringify(error.body);
      return { status: error.status, headers, body, delayMs };
    }
    console.error("pagerduty sandbox: unexpected error", error);
    return {
      status: 500,
      headers: JSON_TYPE,
      body: JSON.stringify({ error: { message: "Internal Server Error", code: 2000 } }),
      delayMs,
    };
  }
}

function mustFind(state: PagerDutyState, id: string): PagerDutyIncidentRecord {
  const incident = state.incidents.get(id);
  if (incident === undefined) throw new Error(`The PagerDuty sandbox has no incident "${id}"`);
  return incident;
}

/** Starts the PagerDuty stand-in. Close it when done (`await sandbox.close()`). */
export async function startPagerDutySandbox(options: PagerDutySandboxOptions): Promise<PagerDutySandbox> {
  const state = createPagerDutyState(options);
  const closing = new AbortController();
  const host = options.host ?? "127.0.0.1";
  let apiUrl = "";

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // GET requests carry no body worth reading; drain whatever came so the socket stays usable.
    req.resume();
    const outcome = answer(state, apiUrl, req);
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
  const setStatus = (id: string, status: PagerDutyIncidentRecord["status"]) => {
    const incident = mustFind(state, id);
    incident.status = status;
    incident.updatedAt = state.clock();
    if (status === "resolved") {
      incident.assigneeIds = [];
      incident.resolvedAt = incident.updatedAt;
    }
    return incident;
  };
  return {
    url: apiUrl,
    port,
    get calls() {
      return state.calls;
    },
    triggerIncident: (incident) => addIncident(state, incident, state.clock()),
    acknowledgeIncident: (id) => setStatus(id, "acknowledged"),
    resolveIncident: (id) => setStatus(id, "resolved"),
    incident: (id) => state.incidents.get(id),
    setOnCalls(oncalls) {
      state.oncalls = oncalls.map((config) => toShift(state, config));
    },
    async sendWebhook(delivery) {
      const incident = mustFind(state, delivery.incidentId);
      const serviceName = state.services.get(incident.serviceId)?.name ?? incident.serviceId;
      const eventType = delivery.eventType ?? "incident.resolved";
      const body = incidentEventBody(apiUrl, incident, eventType, state.clock(), serviceName);
      return deliverWebhook(delivery, body, closing.signal);
    },
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
