import type { Server } from "node:http";
import helmet from "@fastify/helmet";
import type { FastifyHttpOptions, FastifyInstance, FastifyServerOptions } from "fastify";

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

/**
 * Security headers, 405 for other methods, and a 404 that neither logs nor echoes the URL. The CSP is
 * chosen per response: HTML gets the console's, everything else (JSON) keeps helmet's `'none'`.
 */
export async function hardenHttp(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    // The API serves JSON only: nothing may be loaded, framed or run from its responses.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  app.addHook("onRequest", async (request, reply) => {
    if (ALLOWED_METHODS.includes(request.method)) return;
    return reply
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
