import { randomUUID } from "node:crypto";
import cookie from "@fastify/cookie";
import { type Clock, LimitExceededError, type Metrics, type StepUp } from "@leasehold/domain";
import { metricsAuthorized } from "@leasehold/metrics";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import { registerConsoleAssets } from "./auth/console-assets.js";
import type { LoginSetup } from "./auth/login-client.js";
import { registerLoginRoutes, registerSessionRoutes } from "./auth/login-routes.js";
import { type CookieSessions, cookieAuthOf, registerTrpcSessionGuard } from "./auth/session-auth.js";
import { tokenRejectionReason } from "./auth/token-rejection.js";
import type { TokenVerifier } from "./auth/token-verifier.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits, hardenHttp, httpServerOptions } from "./http-edge.js";
import { type RateLimitSettings, registerRateLimits } from "./rate-limits.js";
import { SummaryRequestLog } from "./request-log.js";
import type { AppRouter } from "./trpc/app-router.js";
import type { Context } from "./trpc/trpc.js";
import { registerTrpcRoutes, type TrpcHeaders } from "./trpc/trpc-routes.js";
import { type PagerDutyWebhooks, registerWebhookRoutes } from "./webhook-routes.js";

/** Named checks for /readyz; each resolves when its dependency answers. */
export type Readiness = Readonly<Record<string, () => Promise<unknown>>>;

export type ServerDeps = {
  readonly appRouter: AppRouter;
  readonly verifier: TokenVerifier;
  /** Dependencies /readyz checks; each resolves when reachable and rejects otherwise. */
  readonly readiness: Readiness;
  readonly logger: FastifyBaseLogger;
  /** Timeouts and the connection limit; omitted ones are DEFAULT_HTTP_LIMITS. */
  readonly limits?: Partial<HttpLimits>;
  /** The rate limits of creating requests and leases and of revoking, counted in Redis or PostgreSQL. */
  readonly rateLimits: RateLimitSettings;
  /** PagerDuty's incident webhooks; omitted: not served (incidents are polled by the sweep). */
  readonly pagerDutyWebhooks?: PagerDutyWebhooks | undefined;
  /** GET /metrics and the refusals counted for it; omitted: not served. */
  readonly metrics?: ApiMetrics | undefined;
  /** Console sessions, the OIDC sign-in and the built console; omitted: bearer tokens only. */
  readonly web?: WebEdge | undefined;
};

/** What the browser-facing part of the API needs. */
export type WebEdge = {
  readonly cookies: CookieSessions;
  /** The provider people sign in with; omitted: no /auth/login, and /auth/session says so. */
  readonly login?: LoginSetup | undefined;
  /** A target's step-up rule, for `/auth/login?stepUp=<targetId>`. */
  readonly stepUpOf: (targetId: string) => StepUp | undefined;
  /** The built console (index.html and assets/); omitted: not served. */
  readonly consoleDir?: string | undefined;
  readonly clock: Clock;
};

/** What the API serves at /metrics and counts its refusals through. */
export type ApiMetrics = {
  readonly port: Pick<Metrics, "tokenRejected" | "rateLimited">;
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** METRICS_TOKEN: when set, a scrape must send it as a bearer token. */
  readonly token?: string | undefined;
};

/** Largest request body accepted: inputs are small and bounded field by field anyway. */
const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildServer({
  appRouter,
  verifier,
  readiness,
  logger,
  limits,
  rateLimits,
  pagerDutyWebhooks,
  metrics,
  web,
}: ServerDeps): Promise<FastifyInstance> {
  const applied: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const app = Fastify({
    ...httpServerOptions(applied),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    loggerInstance: logger,
    logController: new SummaryRequestLog(),
  });
  app.server.maxConnections = applied.maxConnections;
  await hardenHttp(app);
  const rateCheckFor = await registerRateLimits(
    app,
    metrics ? { ...rateLimits, onRefused: (name) => metrics.port.rateLimited(name) } : rateLimits,
  );

  if (web) await registerWebEdge(app, web);

  app.get("/healthz", async () => ({ ok: true }));
  if (metrics) registerMetricsRoute(app, metrics);
  if (pagerDutyWebhooks) await registerWebhookRoutes(app, pagerDutyWebhooks);
  app.get("/readyz", async (_request, reply) => {
    const checks = await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [name, "ok"] as const;
        } catch {
          return [name, "unavailable"] as const;
        }
      }),
    );
    const ready = checks.every(([, state]) => state === "ok");
    return reply.code(ready ? 200 : 503).send({ ready, checks: Object.fromEntries(checks) });
  });

  const createContext = async ({ req }: { req: FastifyRequest }): Promise<Context> => {
    const header = req.headers.authorization;
    const logError = (fields: Record<string, unknown>, message: string) => req.log.error(fields, message);
    const checkRate = rateCheckFor(req);
    const match = typeof header === "string" ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match?.[1]) {
      return {
        // Without a bearer token, the session cookie's verdict (session-auth.ts), when one was sent.
        auth: cookieAuthOf(req) ?? {
          error: "send Authorization: Bearer <OIDC token>, or sign in to the console",
        },
        requestId: req.id,
        logError,
        checkRate,
      };
    }
    try {
      return { auth: { principal: await verifier.verify(match[1]) }, requestId: req.id, logError, checkRate };
    } catch (error) {
      const message = error instanceof Error ? error.message : "the token is not valid";
      req.log.info({ reason: message }, "authentication refused");
      metrics?.port.tokenRejected(tokenRejectionReason(message));
      return { auth: { error: message }, requestId: req.id, logError, checkRate };
    }
  };

  await registerTrpcRoutes(app, {
    prefix: "/trpc",
    router: appRouter,
    createContext,
    headers: trpcHeaders,
  });
  return app;
}

/**
 * Responses may carry credentials: never let a cache keep one. A call refused by a limit says when to
 * try again (the latest, when a batch had several).
 */
export const trpcHeaders: TrpcHeaders = (errors) => {
  const retryAfter = Math.max(
    0,
    ...errors.map((e) => (e.cause instanceof LimitExceededError ? e.cause.retryAfterSeconds : 0)),
  );
  return retryAfter > 0 ? { ...NO_STORE, "retry-after": String(retryAfter) } : NO_STORE;
};
const NO_STORE = { "cache-control": "no-store" } as const;

/** Cookies, console sessions (and their CSRF guard on /trpc), the sign-in routes and the console. */
async function registerWebEdge(app: FastifyInstance, web: WebEdge): Promise<void> {
  await app.register(cookie);
  registerTrpcSessionGuard(app, web.cookies);
  registerSessionRoutes(app, web.cookies, web.login);
  if (web.login) {
    registerLoginRoutes(app, {
      login: web.login,
      cookies: web.cookies,
      stepUpOf: web.stepUpOf,
      clock: web.clock,
    });
  }
  if (web.consoleDir !== undefined) registerConsoleAssets(app, web.consoleDir);
}

/** Prometheus' scrape: the exposition text, behind METRICS_TOKEN when one is set. */
function registerMetricsRoute(app: FastifyInstance, metrics: ApiMetrics) {
  app.get("/metrics", async (request, reply) => {
    if (!metricsAuthorized(metrics.token, request.headers.authorization)) {
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "send the metrics token" });
    }
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
