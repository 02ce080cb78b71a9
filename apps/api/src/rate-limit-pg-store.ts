import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import { type Database, expiringKeyRepo } from "@leasehold/db";

/** Keeps rate-limit counts apart from the other expiring keys (the bot's replay cache). */
const NAMESPACE = "rate-limit:";

/**
 * A @fastify/rate-limit store over PostgreSQL (expiring_keys), for the PostgreSQL-only mode. The plugin
 * (11.2) constructs the class itself (`new Store(globalOptions)`), takes `child(options)` for each
 * limiter, and calls `incr(key, callback, timeWindowMs, max)` once per counted call; `callback` gets
 * the count in the window and the milliseconds left in it. Counts are fixed windows, as the Redis
 * store's are; `continueExceeding` and `exponentialBackoff` are not supported (Leasehold sets neither),
 * nor is `read` (only `{ increment: false }` needs it, and Leasehold never peeks).
 * A failed count goes to `onError` and to the plugin, which lets the call through (`skipOnError`).
 */
export function postgresRateLimitStore(
  database: Database,
  onError: (error: Error) => void,
): FastifyRateLimitStoreCtor {
  const keys = expiringKeyRepo(database);
  class PostgresRateLimitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      keys.increment(`${NAMESPACE}${key}`, timeWindow).then(
        ({ count, resetInMs }) => callback(null, { current: count, ttl: Math.max(0, Math.ceil(resetInMs)) }),
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          onError(failure);
          callback(failure);
        },
      );
    }

    // Every limiter's keys already name their use case (rate-limits.ts), so children share one space.
    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return PostgresRateLimitStore;
}
