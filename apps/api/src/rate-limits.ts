import fastifyRateLimit from "@fastify/rate-limit";
import type { Database } from "@leasehold/db";
import { LimitExceededError } from "@leasehold/domain";
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { postgresRateLimitStore } from "./rate-limit-pg-store.js";

/** The use cases whose calls are rate limited, as leasehold.yaml's `limits.rates` names them. */
export type RateName = "requests" | "leases" | "revocations";
const RATE_NAMES: readonly RateName[] = ["requests", "leases", "revocations"];

const USE_CASE: Record<RateName, string> = {
  requests: "requests.create",
  leases: "leases.create",
  revocations: "grants.revoke",
};

/** Where the counts live, shared by every API replica: the queues' backend. */
export type RateLimitStore =
  | {
      readonly kind: "redis";
      readonly redis: Redis;
      /** Prefix of the Redis keys, so installations can share a Redis (the queue prefix). */
      readonly prefix: string;
    }
  | { readonly kind: "postgres"; readonly database: Database };

export type RateLimitSettings = {
  readonly store: RateLimitStore;
  /** leasehold.yaml's `limits.rates`: the window in seconds and the calls per principal per window. */
  readonly rates: { readonly window: number } & Readonly<Record<RateName, number>>;
  /** Told of each refusal (the rate-limit metric); the name is one of RATE_NAMES. */
  readonly onRefused?: (name: RateName) => void;
};

/** Counts one call of `name` by `principalId` in this HTTP request; throws LimitExceededError past the limit. */
export type RateCheck = (name: RateName, principalId: string) => Promise<void>;

/**
 * Registers @fastify/rate-limit with its Redis store or ours over PostgreSQL, for use from the tRPC procedures rather than
 * per route: every call goes through one route (`/trpc/<path>`, batches included), and the key is
 * the verified principal, known only once the token has been checked. Each call in a batch counts.
 * The limits fail open when the store cannot be reached: the API keeps working through an outage
 * (ending access must never wait on the limiter, and requests made meanwhile are issued once the
 * queues are back), while the caps, counted in the database, still bound what one identity can hold.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  settings: RateLimitSettings,
): Promise<(req: FastifyRequest) => RateCheck> {
  await app.register(fastifyRateLimit, { global: false, ...storeOptions(settings.store, app.log) });
  // The limiter reads its key from the request; this says whose call is being counted.
  const counting = new WeakMap<FastifyRequest, string>();
  const limiters = new Map(
    RATE_NAMES.map((name) => [
      name,
      app.createRateLimit({
        max: settings.rates[name],
        timeWindow: settings.rates.window * 1000,
        keyGenerator: (req) => `${name}:${counting.get(req) ?? ""}`,
        skipOnError: true,
      }),
    ]),
  );
  return (req) => async (name, principalId) => {
    const limiter = limiters.get(name);
    if (!limiter) throw new Error(`no rate limit called ${name}`);
    counting.set(req, principalId);
    const result = await limiter(req);
    if (result.isAllowed || !result.isExceeded) return;
    settings.onRefused?.(name);
    throw new LimitExceededError(
      `limits.rates.${name}`,
      `${principalId} made more than ${result.max} ${USE_CASE[name]} calls in ${settings.rates.window} s`,
      result.ttlInSeconds,
    );
  };
}

/** The plugin's options that choose where counts live. */
function storeOptions(store: RateLimitStore, log: FastifyBaseLogger) {
  switch (store.kind) {
    case "redis":
      // The Redis client reports its own connection errors (start-api.ts).
      return { redis: store.redis, nameSpace: `${store.prefix}:rate-limit:` };
    case "postgres":
      return {
        store: postgresRateLimitStore(store.database, (error) =>
          log.warn({ reason: error.message }, "rate limit store unreachable"),
        ),
      };
  }
}
