import type { Server } from "node:http";
import helmet from "@fastify/helmet";
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from "fastify";

/** How long and how many: what the HTTP server gives one client before it hangs up. */
export type HttpLimits = {
  /** The whole request (headers and body) must arrive within this; Node answers 408 and closes. */
  readonly requestTimeoutMs: number;
  /** The headers must arrive within this (at most `requestTimeoutMs`). */
  readonly headersTimeoutMs: number;
  /** A connection on which nothing is sent or received for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Open connections at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** How often Node checks the two request timeouts (its default, 30 s, would let them overrun). */
  readonly timeoutCheckIntervalMs: number;
};

/**
 * Every request body is at most 64 KiB and every answer is small, so a well-behaved client needs
 * milliseconds; these leave room for a slow network and not for a client holding a connection open
 * (a slow body used to be held for over 7 minutes: Fastify disables Node's request timeout).
 * Idle keep-alive connections are closed after Fastify's own 72 s keepAliveTimeout, below this.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 75_000,
  maxConnections: 1_000,
  timeoutCheckIntervalMs: 1_000,
};

/** Methods the API answers; anything else is 405, before any route or the tRPC adapter sees it. */
const ALLOWED_METHODS = ["GET", "HEAD", "POST"];

/** Fastify options that apply `limits` and keep URLs' query strings out of the logs. */
export function httpServerOptions(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    childLoggerFactory: redactingChildLogger,
  };
}

/**
 * Every log line about a request serializes it with `loggableUrl`: a bearer token may be sent in a
 * query string (`?access_token=`) or pasted into a path, and logs are read by more people than the API.
 */
const redactingChildLogger: NonNullable<FastifyServerOptions["childLoggerFactory"]> = (
  logger,
  bindings,
  options,
) =>
  logger.child(bindings, {
    ...options,
    serializers: {
      req: (request: { method?: string; url?: string; ip?: string }) => ({
        method: request.method,
        url: loggableUrl(request.url ?? ""),
        remoteAddress: request.ip,
      }),
    },
  });

// Three base64url parts with dots between them: the shape of a JWT (and of most bearer tokens).
const TOKEN_LIKE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g;

/** The path without its query string (replaced by `?[redacted]`), token-shaped segments removed, bounded. */
function loggableUrl(url: string): string {
  const query = url.indexOf("?");
  const path = (query === -1 ? url : url.slice(0, query)).replace(TOKEN_LIKE, "[redacted]").slice(0, 256);
  return query === -1 ? path : `${path}?[redacted]`;
}

/**
 * The console's pages (and the sign-in's error pages): its own scripts, styles and API only, never
 * inline code, never framed, forms posting only here.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** What helmet is asked for: the API serves JSON only, nothing may be loaded, framed or run from it. */
const HELMET_OPTIONS = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
};

/**
 * The headers @fastify/helmet sets with HELMET_OPTIONS, learnt once from a probe server: the plugin
 * builds helmet's middleware anew on every request (parsing the CSP each time), a twentieth of an
 * authenticated call's CPU, for headers that never change.
 */
async function helmetHeaders(): Promise<Record<string, string>> {
  const headersOf = async (withHelmet: boolean) => {
    const probe = Fastify();
    if (withHelmet) await probe.register(helmet, HELMET_OPTIONS);
    probe.get("/", async () => ({}));
    const response = await probe.inject({ method: "GET", url: "/" });
    await probe.close();
    return response.headers;
  };
  const plain = await headersOf(false);
  const hardened = await headersOf(true);
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(hardened)) {
    if (plain[name] === undefined && typeof value === "string") added[name] = value;
  }
  if (added["content-security-policy"] === undefined)
    throw new Error("helmet set no Content-Security-Policy");
  return added;
}

/**
 * Security headers, 405 for other methods, and a 404 that neither logs nor echoes the URL. The CSP is
 * chosen per response: HTML gets the console's, everything else (JSON) keeps helmet's `'none'`.
 */
export async function hardenHttp(app: FastifyInstance): Promise<void> {
  const securityHeaders = await helmetHeaders();
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(securityHeaders);
    if (ALLOWED_METHODS.includes(request.method)) return done();
    reply
      .code(405)
      .header("allow", ALLOWED_METHODS.join(", "))
      .send({ error: `method ${request.method} is not allowed; use GET or POST` });
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    const type = reply.getHeader("content-type");
    if (typeof type === "string" && type.startsWith("text/html")) {
      reply.header("content-security-policy", CONSOLE_CSP);
    }
    return payload;
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: "not found" }));
}
