import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { baseUrl, closeServer, listen, readBody } from "../http/http-server.js";
import { createVaultCore, type VaultCore } from "./vault-core.js";
import { resolveRoute, type VaultReply, type VaultRequest } from "./vault-routes.js";
import type {
  VaultFault,
  VaultMode,
  VaultRequestRecord,
  VaultSandbox,
  VaultSandboxOptions,
} from "./vault-sandbox-types.js";
import { isRecord, stringLeaves, VAULT_ERRORS, VaultHttpError } from "./vault-wire.js";

/**
 * The HashiCorp Vault stand-in: Vault's HTTP API under `/v1/` for tokens, AppRole login, the database
 * secrets engine (PostgreSQL and MySQL/MariaDB, real statements on the real servers), lease
 * renew/revoke and KV version 2, so the real node-vault client runs against
 * it. What it enforces, and what it does not, is in README.md.
 */

/** Vault accepts 32 MiB; the stand-in's callers send small JSON. */
const MAX_BODY_BYTES = 1024 * 1024;
/** How often expiry is checked against the clock (leases are revoked within this of their deadline). */
const SWEEP_INTERVAL_MS = 100;
/** What `sys/health` reports as the server version (semver build metadata marks the stand-in). */
export const VAULT_SANDBOX_VERSION = "1.17.6+sandbox";

type Received = {
  method: string;
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: string;
};

type Outcome = {
  status: number;
  headers: Record<string, string>;
  body: string;
  record: VaultRequestRecord;
  /** Decoded request and response bodies, for allPayloadsText(). */
  seen: unknown[];
};

const header = (headers: Received["headers"], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const TRUE_WORDS = new Set(["", "1", "t", "true", "True", "TRUE"]);

type State = {
  core: VaultCore;
  mode: VaultMode;
  faults: VaultFault[];
  requests: VaultRequestRecord[];
  payloads: string[];
  clusterId: string;
};

/** `sys/health`: the status code reflects the mode, and the query parameters can remap it, as in Vault. */
function healthReply(state: State, query: URLSearchParams): VaultReply {
  const code = (name: string, fallback: number) => {
    const raw = query.get(name);
    const value = Number(raw);
    return raw !== null && Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const standbyOk = query.has("standbyok") && TRUE_WORDS.has(query.get("standbyok") ?? "");
  const { mode } = state;
  const initialized = mode !== "uninitialized";
  const sealed = mode === "sealed" || mode === "uninitialized";
  const status = !initialized
    ? code("uninitcode", 501)
    : sealed
      ? code("sealedcode", 503)
      : mode === "standby" && !standbyOk
        ? code("standbycode", 429)
        : code("activecode", 200);
  return {
    status,
    body: {
      initialized,
      sealed,
      standby: mode !== "active",
      performance_standby: false,
      replication_performance_mode: sealed ? "unknown" : "disabled",
      replication_dr_mode: sealed ? "unknown" : "disabled",
      server_time_utc: Math.floor(state.core.clock().getTime() / 1000),
      version: VAULT_SANDBOX_VERSION,
      enterprise: false,
      ...(sealed ? {} : { cluster_name: "vault-cluster-sandbox", cluster_id: state.clusterId }),
      echo_duration_ms: 0,
      clock_skew_ms: 0,
    },
  };
}

function sealStatusReply(state: State): VaultReply {
  const sealed = state.mode === "sealed" || state.mode === "uninitialized";
  return {
    status: 200,
    body: {
      type: "shamir",
      initialized: state.mode !== "uninitialized",
      sealed,
      t: 1,
      n: 1,
      progress: 0,
      nonce: "",
      version: VAULT_SANDBOX_VERSION,
      build_date: "2026-01-01T00:00:00Z",
      migration: false,
      recovery_seal: false,
      storage_type: "inmem",
      ...(sealed ? {} : { cluster_name: "vault-cluster-sandbox", cluster_id: state.clusterId }),
    },
  };
}

/** Takes one use of the first pending fault matching the request, if any. */
function takeFault(state: State, method: string, path: string): VaultFault | undefined {
  const fault = state.faults.find(
    (candidate) =>
      candidate.times > 0 &&
      path.startsWith(candidate.pathPrefix) &&
      (candidate.method === undefined || candidate.method.toUpperCase() === method),
  );
  if (fault === undefined) return undefined;
  fault.times -= 1;
  state.faults = state.faults.filter((candidate) => candidate.times > 0);
  return fault;
}

function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VaultHttpError(400, [
      `failed to parse JSON input: ${error instanceof Error ? error.message : ""}`,
    ]);
  }
  if (!isRecord(parsed)) throw new VaultHttpError(400, ["failed to parse JSON input: not a JSON object"]);
  return parsed;
}

/** Everything between the received request and the response; never throws. */
// One pass from request to response in Vault's order (fault, health, seal, auth, ACL, route); splitting it
// would scatter that order across functions.
async function answer(state: State, received: Received): Promise<Outcome> {
  const { core } = state;
  const at = core.clock();
  const url = new URL(received.url, "http://vault.invalid");
  const query = url.searchParams;
  const rawMethod = received.method.toUpperCase();
  const listQuery = query.get("list");
  const method = rawMethod === "GET" && listQuery !== null && TRUE_WORDS.has(listQuery) ? "LIST" : rawMethod;
  const path = url.pathname.startsWith("/v1/") ? decodeURIComponent(url.pathname.slice(4)) : "";
  const token = header(received.headers, "x-vault-token");
  const namespace = header(received.headers, "x-vault-namespace");
  const accessor = core.accessorOf(token);
  const seen: unknown[] = [];

  const finish = (reply: VaultReply, extraHeaders: Record<string, string> = {}): Outcome => {
    const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
    if (reply.body !== undefined) seen.push(reply.body);
    return {
      status: reply.status,
      headers: {
        "Cache-Control": "no-store",
        ...(reply.body === undefined ? {} : { "Content-Type": "application/json" }),
        ...extraHeaders,
      },
      body,
      record: {
        method,
        path,
        status: reply.status,
        ...(accessor === undefined ? {} : { accessor }),
        ...(namespace === undefined ? {} : { namespace }),
        at,
      },
      seen,
    };
  };

  try {
    if (!url.pathname.startsWith("/v1/")) throw new VaultHttpError(404, []);
    const fault = takeFault(state, method, path);
    if (fault !== undefined) {
      return finish(
        { status: fault.status, body: { errors: fault.errors ?? [] } },
        fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.retryAfterSeconds) },
      );
    }
    if (path === "sys/health" && (method === "GET" || method === "HEAD")) {
      const reply = healthReply(state, query);
      return finish(method === "HEAD" ? { status: reply.status } : reply);
    }
    if (path === "sys/seal-status" && method === "GET") return finish(sealStatusReply(state));
    if (state.mode === "sealed" || state.mode === "uninitialized") {
      throw new VaultHttpError(503, [VAULT_ERRORS.sealed]);
    }
    if (!["GET", "LIST", "POST", "PUT", "DELETE"].includes(method)) {
      throw new VaultHttpError(405, [VAULT_ERRORS.unsupportedOperation]);
    }
    core.sweep();
    const body = method === "GET" || method === "LIST" ? {} : parseJsonBody(received.body);
    if (received.body.trim() !== "") seen.push(body);
    const request: VaultRequest = { method, path, query, body };

    let reply: VaultReply;
    if (path === "auth/approle/login" && (method === "POST" || method === "PUT")) {
      reply = { status: 200, body: core.appRoleLogin(body) };
    } else {
      const caller = authenticate(core, token);
      const route = resolveRoute(core, request);
      if (!core.aclOf(caller).allows(path, route.capability, route.sudo)) {
        throw new VaultHttpError(403, [VAULT_ERRORS.policyDenied]);
      }
      reply = await route.run(caller);
    }

    return finish(reply);
  } catch (error) {
    if (error instanceof VaultHttpError)
      return finish({ status: error.status, body: { errors: error.errors } });
    console.error("vault sandbox: unexpected error", error);
    return finish({ status: 500, body: { errors: ["1 error occurred:\n\t* internal error\n\n"] } });
  }
}

/** The caller's live token: 400 without one, 403 for an unknown, revoked or expired one. */
function authenticate(core: VaultCore, token: string | undefined) {
  if (token === undefined || token === "") throw new VaultHttpError(400, [VAULT_ERRORS.missingToken]);
  const entry = core.liveToken(token);
  if (entry === undefined) throw new VaultHttpError(403, [VAULT_ERRORS.invalidToken]);
  return entry;
}

/**
 * Node's HTTP parser refuses the LIST method that Vault clients send (HPE_INVALID_METHOD), but hands over
 * the raw bytes: this parses such a request so it can be answered like any other (then the connection
 * closes, since the parser cannot continue on it). Undefined when the packet is not a whole LIST request.
 */
function parseRawListRequest(raw: Buffer): Received | undefined {
  const text = raw.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [requestLine = "", ...headerLines] = text.slice(0, headEnd).split("\r\n");
  const match = /^LIST (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  const target = match?.[1];
  if (target === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), "latin1")).toString("utf8");
  if (Number(headers["content-length"] ?? "0") !== Buffer.byteLength(body)) return undefined;
  return { method: "LIST", url: target, headers, body };
}

/** Starts the Vault stand-in. Close it when done (`await sandbox.close()`). */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it wires the server, the sweeper and the test hooks over one state; each piece is small.
export async function startVaultSandbox(options: VaultSandboxOptions = {}): Promise<VaultSandbox> {
  const state: State = {
    core: createVaultCore(options),
    mode: "active",
    faults: [],
    requests: [],
    payloads: [],
    clusterId: randomUUID(),
  };

  const record = (outcome: Outcome, rawRequestBody: string) => {
    state.requests.push(outcome.record);
    state.payloads.push(rawRequestBody, outcome.body, ...stringLeaves(outcome.seen));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });
  // Vault keeps an idle keep-alive connection for its listener's http_idle_timeout, 5m by default. Node's
  // own 5 s would race the client's 5 s idle close: a request sent on a socket the server just closed
  // fails with ECONNRESET, which real Vault does not do.
  server.keepAliveTimeout = 5 * 60_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      res
        .writeHead(413, { "Content-Type": "application/json", Connection: "close" })
        .end(JSON.stringify({ errors: ["http: request body too large"] }));
      return;
    }
    const received: Received = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body: body.toString("utf8"),
    };
    const outcome = await answer(state, received);
    record(outcome, received.body);
    if (res.destroyed) return;
    res.writeHead(outcome.status, outcome.headers).end(outcome.body);
  }

  server.on("clientError", (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const listRequest =
      error.code === "HPE_INVALID_METHOD" && error.rawPacket !== undefined
        ? parseRawListRequest(error.rawPacket)
        : undefined;
    if (listRequest === undefined) {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
      return;
    }
    void answer(state, listRequest).then((outcome) => {
      record(outcome, listRequest.body);
      if (!socket.writable) return;
      const head = [
        `HTTP/1.1 ${outcome.status} ${STATUS_CODES[outcome.status] ?? ""}`,
        ...Object.entries(outcome.headers).map(([name, value]) => `${name}: ${value}`),
        `Content-Length: ${Buffer.byteLength(outcome.body)}`,
        "Connection: close",
      ];
      socket.end(`${head.join("\r\n")}\r\n\r\n${outcome.body}`);
    });
  });

  // A sealed Vault's expiration manager is stopped: nothing expires until it is unsealed.
  const sweeper = setInterval(() => {
    if (state.mode === "active" || state.mode === "standby") state.core.sweep();
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  const host = options.host ?? "127.0.0.1";
  let port: number;
  try {
    port = await listen(server, options.port ?? 0, host);
  } catch (error) {
    clearInterval(sweeper);
    await state.core.close();
    throw error;
  }
  return {
    url: baseUrl(host, port),
    port,
    rootToken: state.core.rootToken.id,
    get requests() {
      return state.requests;
    },
    leases: () => state.core.leaseRecords(),
    kv: (path) => state.core.kvRecords(path),
    allPayloadsText: () => state.payloads.filter((text) => text !== "").join("\n"),
    setMode(mode) {
      state.mode = mode;
    },
    injectFault(fault) {
      if (!Number.isInteger(fault.times) || fault.times < 1) throw new Error("A fault needs times ≥ 1");
      state.faults.push({ ...fault });
    },
    failDatabase(failing) {
      state.core.setDatabaseFailing(failing);
    },
    whenIdle: () => state.core.whenIdle(),
    revokeAllLeases: () => state.core.revokeAllLeases(),
    reset() {
      state.mode = "active";
      state.faults = [];
      state.requests = [];
      state.payloads = [];
      state.core.resetData();
    },
    async close() {
      clearInterval(sweeper);
      await closeServer(server);
      await state.core.close();
    },
  };
}
