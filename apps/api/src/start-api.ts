import type { IdentityProviderConfig } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import type { FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";
import { createTokenVerifier } from "./auth/token-verifier.js";
import type { RateLimitSettings } from "./rate-limits.js";
import { buildServer, type Readiness } from "./server.js";
import { type ApiUseCases, createAppRouter } from "./trpc/app-router.js";

/** Serves the API over the use cases it calls; used by main.ts and by local mode. */
export async function startApi(options: {
  useCases: ApiUseCases;
  readiness: Readiness;
  identityProviders: readonly IdentityProviderConfig[];
  host: string;
  port: number;
  log: FastifyBaseLogger;
  /** The rate limits' Redis (the queues' URL and key prefix) and leasehold.yaml's `limits.rates`. */
  rateLimits: { redisUrl: string; prefix: string; rates: RateLimitSettings["rates"] };
}): Promise<{ address: string; close(): Promise<void> }> {
  const { log } = options;
  // A call gives up after a few reconnects rather than hang while Redis is down.
  const redis = new Redis(options.rateLimits.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on("error", (error: Error) => log.warn({ reason: error.message }, "rate limit store unreachable"));
  const app = await buildServer({
    appRouter: createAppRouter(options.useCases),
    verifier: createTokenVerifier(options.identityProviders, { clock: systemClock }),
    readiness: options.readiness,
    logger: log,
    rateLimits: { redis, prefix: options.rateLimits.prefix, rates: options.rateLimits.rates },
  });
  const address = await app.listen({ host: options.host, port: options.port });
  log.info({ address }, "leasehold api listening");
  return {
    address,
    close: async () => {
      await app.close();
      await redis.quit();
    },
  };
}
