import type { IdentityProviderConfig } from "@leasehold/config";
import type { Database } from "@leasehold/db";
import { type StepUp, systemClock } from "@leasehold/domain";
import type { FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";
import type { LoginSetup } from "./auth/login-client.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import type { RateLimitSettings, RateLimitStore } from "./rate-limits.js";
import { type ApiMetrics, buildServer, type Readiness } from "./server.js";
import { type ApiUseCases, createAppRouter } from "./trpc/app-router.js";
import type { LocalSlackOutbox } from "./trpc/local-slack.js";
import type { PagerDutyWebhooks } from "./webhook-routes.js";

/** The rate limits' backend, the queues': Redis by URL and key prefix, or the caller's database. */
export type RateLimitConnection =
  | { readonly kind: "redis"; readonly redisUrl: string; readonly prefix: string }
  | { readonly kind: "postgres"; readonly database: Database };

/** Serves the API over the use cases it calls; used by main.ts and by local mode. */
export async function startApi(options: {
  useCases: ApiUseCases;
  readiness: Readiness;
  identityProviders: readonly IdentityProviderConfig[];
  host: string;
  port: number;
  log: FastifyBaseLogger;
  /**
   * Where rate limits are counted, the queues' backend: Redis (the queues' URL and key prefix) or
   * the PostgreSQL database (the caller's, left open); and leasehold.yaml's `limits.rates`.
   */
  rateLimits: {
    store: RateLimitConnection;
    rates: RateLimitSettings["rates"];
  };
  pagerDutyWebhooks?: PagerDutyWebhooks | undefined;
  /** GET /metrics; omitted: not served. */
  metrics?: ApiMetrics | undefined;
  /** The URL people reach the API and console at (the redirect URI's base); default: the listen address. */
  publicUrl?: string | undefined;
  /** Local mode over http only: the session cookie without `__Host-` and Secure. */
  insecureCookies?: boolean | undefined;
  /** The built console to serve at `/`; omitted: not served. */
  consoleDir?: string | undefined;
  /** The provider people sign in to the console with; omitted: no sign-in (bearer tokens only). */
  login?: { provider: IdentityProviderConfig; clientSecret?: string | undefined } | undefined;
  /** The targets' step-up rules, for `/auth/login?stepUp=<targetId>`. */
  targets?: readonly { readonly id: string; readonly stepUp?: StepUp | undefined }[] | undefined;
  /** Local mode: what the bot sent to the Slack stand-in, for the console's Slack page. */
  localSlack?: LocalSlackOutbox | undefined;
}): Promise<{ address: string; close(): Promise<void> }> {
  const { log } = options;
  const login = loginSetup(options.login);
  let address: string | undefined;
  const publicUrl = () => (options.publicUrl ?? address ?? "http://127.0.0.1").replace(/\/$/, "");
  const store = openRateLimitStore(options.rateLimits.store, log);
  const app = await buildServer({
    appRouter: createAppRouter(options.useCases, options.localSlack),
    verifier: createTokenVerifier(options.identityProviders, { clock: systemClock }),
    readiness: options.readiness,
    logger: log,
    rateLimits: { store: store.settings, rates: options.rateLimits.rates },
    pagerDutyWebhooks: options.pagerDutyWebhooks,
    metrics: options.metrics,
    web: {
      cookies: { sessions: options.useCases.sessions, secure: !options.insecureCookies, publicUrl },
      login,
      stepUpOf: (targetId) => options.targets?.find((t) => t.id === targetId)?.stepUp,
      consoleDir: options.consoleDir,
      clock: systemClock,
    },
  });
  address = await app.listen({ host: options.host, port: options.port });
  log.info({ address }, "leasehold api listening");
  return {
    address,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/** The sign-in's provider, which must be one with `login` settings. */
function loginSetup(
  login: { provider: IdentityProviderConfig; clientSecret?: string | undefined } | undefined,
) {
  if (!login) return undefined;
  const { provider, clientSecret } = login;
  if (!provider.login) throw new Error(`identity provider ${provider.name} has no login settings`);
  return { provider: { ...provider, login: provider.login }, clientSecret } satisfies LoginSetup;
}

/** The rate-limit store's connection: a Redis client of its own, or the caller's database as it is. */
function openRateLimitStore(
  store: RateLimitConnection,
  log: FastifyBaseLogger,
): { settings: RateLimitStore; close(): Promise<unknown> } {
  if (store.kind === "postgres") {
    return { settings: store, close: async () => {} };
  }
  // A call gives up after a few reconnects rather than hang while Redis is down.
  const redis = new Redis(store.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on("error", (error: Error) => log.warn({ reason: error.message }, "rate limit store unreachable"));
  return { settings: { kind: "redis", redis, prefix: store.prefix }, close: () => redis.quit() };
}
