import { type Database, expiringKeyRepo } from "@leasehold/db";
import type { ReplayCache } from "./slack-request-check.js";

/**
 * The replay cache in PostgreSQL (expiring_keys), for the PostgreSQL-only mode: the key
 * `slack-replay:<sha256 of the signature>` is claimed by one INSERT … ON CONFLICT, atomic across every
 * replica on the database, as Redis's SET NX PX is. A claim that has not answered within `timeoutMs`
 * rejects (Slack wants an answer within 3 s), so the request is refused as while the database is down.
 */
export function postgresReplayCache(database: Database, options: { timeoutMs: number }): ReplayCache {
  const keys = expiringKeyRepo(database);
  return {
    claim: (key, ttlMs) => withTimeout(keys.claim(`slack-replay:${key}`, ttlMs), options.timeoutMs),
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the replay cache did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
