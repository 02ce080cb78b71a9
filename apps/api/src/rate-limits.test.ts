import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Broker, createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database, openPostgres } from "@leasehold/db";
import type { Caps } from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { providerRegistry } from "@leasehold/providers";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import {
  createPostgresDatabase,
  createTestDatabase,
  type Person,
  TEST_CONFIG,
  tokenFor,
} from "@leasehold/test-kit";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "./auth/token-verifier.js";
import type { RateLimitSettings, RateLimitStore } from "./rate-limits.js";
import { buildServer } from "./server.js";
import { createAppRouter } from "./trpc/app-router.js";

/**
 * Rate limits (@fastify/rate-limit over Redis or PostgreSQL, per principal and use case) and caps (the
 * broker's) over HTTP: a refused call is a 429 that names the limit and says when to retry
 * (Retry-After). Each store is shared by two API replicas, each with a connection of its own. Small
 * limits and counting; one test waits out a 1 s window.
 */

const RATES = { window: 60, requests: 2, leases: 2, revocations: 2 };
const CAPS: Caps = { pendingRequests: 1, activeGrants: 10, activeLeases: 10 };

const STORES = ["redis", "postgres"] as const;
type StoreKind = (typeof STORES)[number];
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Nothing listens on port 1: a store that is down. */
const DOWN_POSTGRES_URL = "postgres://postgres@127.0.0.1:1/leasehold";

let issuer: OidcIssuer;
let config: ReturnType<typeof parseConfig>;
/** The PostgreSQL store's database, a fresh one for this file. */
let counts: Database & { url: string };
/** What to close after the tests, last opened first. */
const opened: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", issuer.url), "test.yaml");
  counts = await createPostgresDatabase();
});
afterAll(async () => {
  for (const close of opened.reverse()) await close();
  await counts?.close();
  await issuer?.close();
});

/** One replica's way to the store every replica shares: a Redis client, or a pool, of its own. */
function replicaStore(kind: StoreKind, prefix: string): RateLimitStore {
  if (kind === "redis") {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    opened.push(() => redis.quit());
    return { kind, redis, prefix };
  }
  const database = openPostgres(counts.url, { maxConnections: 2 });
  opened.push(() => database.close());
  return { kind, database };
}

/** A store that cannot be reached; calls to it fail at once instead of waiting for a connection. */
function unreachableStore(kind: StoreKind): RateLimitStore {
  if (kind === "redis") {
    const redis = new Redis({ port: 1, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on("error", () => {});
    opened.push(async () => redis.disconnect());
    return { kind, redis, prefix: "unreachable" };
  }
  const database = openPostgres(DOWN_POSTGRES_URL, { maxConnections: 1 });
  opened.push(() => database.close());
  return { kind, database };
}

/** An API replica over the broker's database `db`, counting calls in `store`. */
async function apiReplica(
  db: Database,
  store: RateLimitStore,
  options: { rates?: RateLimitSettings["rates"]; caps?: Caps; logger?: FastifyBaseLogger } = {},
): Promise<FastifyInstance> {
  const log = options.logger ?? pino({ level: "silent" });
  const broker: Broker = createBroker({
    store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
    targets: targetCatalog(config.targets),
    providers: providerRegistry([]),
    queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
    cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 2) }),
    clock: () => new Date(),
    newId: randomUUID,
    policy: policyEngineFor(config),
    log,
    ...(options.caps ? { caps: options.caps } : {}),
  });
  const app = await buildServer({
    appRouter: createAppRouter(broker),
    verifier: createTokenVerifier(config.identityProviders, { clock: () => new Date() }),
    readiness: {},
    logger: log,
    rateLimits: { store, rates: options.rates ?? RATES },
    metrics: {
      port: { tokenRejected: () => undefined, rateLimited: (name) => refusalsCounted.push(name) },
      render: async () => ({ contentType: "text/plain", body: "" }),
    },
  });
  opened.push(() => app.close());
  return app;
}

async function freshBrokerDatabase(): Promise<Database> {
  const db = await createTestDatabase("pglite");
  opened.push(() => db.close());
  return db;
}

/** The rate-limit refusals the replicas counted for /metrics. */
const refusalsCounted: string[] = [];

type Reply = { status: number; retryAfter: string | undefined; body: unknown };

async function post(
  app: FastifyInstance | undefined,
  path: string,
  payload: unknown,
  who: Person,
  /** A token minted beforehand, so the call itself is quick. */
  token?: string,
): Promise<Reply> {
  if (!app) throw new Error("no such replica");
  const response = await app.inject({
    method: "POST",
    url: `/trpc/${path}`,
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token ?? (await tokenFor(issuer, who))}`,
    },
    payload: JSON.stringify(payload),
  });
  const retryAfter = response.headers["retry-after"];
  return {
    status: response.statusCode,
    retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
    body: response.json(),
  };
}

const message = (reply: Reply) => (reply.body as { error?: { message?: string } }).error?.message ?? "";
const request = { targetId: "prod-readonly", durationSeconds: 900, reason: "investigate INC-1" };

const expectRateRefusal = (reply: Reply, limit: string, windowSeconds = RATES.window) => {
  expect(reply.status).toBe(429);
  expect((reply.body as { error: { data: { code: string } } }).error.data.code).toBe("TOO_MANY_REQUESTS");
  expect(message(reply)).toContain(limit);
  expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(reply.retryAfter)).toBeLessThanOrEqual(windowSeconds);
};

describe.each(STORES)("rate limits counted in %s", (kind) => {
  let db: Database;
  let prefix: string;
  /** Two API replicas over one broker database and one store. */
  let replicas: FastifyInstance[] = [];
  beforeAll(async () => {
    db = await freshBrokerDatabase();
    prefix = `test-${randomUUID()}`;
    replicas = await Promise.all(
      [1, 2].map(() => apiReplica(db, replicaStore(kind, prefix), { caps: CAPS })),
    );
  });

  it("refuses a principal's third requests.create in the window with 429 and Retry-After, on every replica", async () => {
    refusalsCounted.length = 0;
    // The first is recorded; the second is refused by the broker (a cap), not the rate, but counts.
    expect((await post(replicas[0], "requests.create", { ...request, ticket: "INC-1" }, "dev")).status).toBe(
      200,
    );
    const second = await post(replicas[1], "requests.create", { ...request, ticket: "INC-1" }, "dev");
    expect(message(second)).toContain("limits.pendingRequests");
    expectRateRefusal(await post(replicas[0], "requests.create", request, "dev"), "limits.rates.requests");
    expectRateRefusal(await post(replicas[1], "requests.create", request, "dev"), "limits.rates.requests");
    // Another principal has a count of its own.
    expect((await post(replicas[0], "requests.create", request, "alice")).status).toBe(403);
    // Each refusal by the rate (not the cap's) is counted for the metric, under the limit's name.
    expect(refusalsCounted).toEqual(["requests", "requests"]);
  });

  it.each([
    ["leases.create", { targetId: "prod-readonly" }, "limits.rates.leases", "alice"],
    ["grants.revoke", { grantId: randomUUID() }, "limits.rates.revocations", "sec"],
  ] as const)("limits %s per principal", async (path, input, limit, who) => {
    for (const replica of replicas) {
      expect((await post(replica, path, input, who)).status).not.toBe(429);
    }
    expectRateRefusal(await post(replicas[0], path, input, who), limit);
  });

  it("counts concurrent calls on two replicas together: no more than the limit get through", async () => {
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post(replicas[i % 2], "leases.create", { targetId: "prod-readonly" }, "bob"),
      ),
    );
    expect(replies.filter((r) => r.status !== 429)).toHaveLength(RATES.leases);
  });

  it("counts each call of a batch", async () => {
    const app = replicas[0];
    if (!app) throw new Error("no replica");
    const response = await app.inject({
      method: "POST",
      url: "/trpc/requests.create,requests.create,requests.create?batch=1",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await tokenFor(issuer, "bob")}`,
      },
      payload: JSON.stringify({ 0: request, 1: request, 2: request }),
    });
    const codes = (response.json() as { error: { data: { code: string } } }[]).map((r) => r.error.data.code);
    // The calls of a batch run concurrently: which one is counted third depends on the store's order.
    expect(codes.sort()).toEqual(["FORBIDDEN", "FORBIDDEN", "TOO_MANY_REQUESTS"]);
    expect(Number(response.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  });

  it("starts a principal's count over once the window has passed", async () => {
    const short = await Promise.all(
      [1, 2].map(() =>
        apiReplica(db, replicaStore(kind, `${prefix}-short`), { rates: { ...RATES, window: 2 } }),
      ),
    );
    // sec's leases.create calls are counted in no other test; the broker refuses each (403).
    const lease = { targetId: "prod-readonly" };
    // One token, minted first, so the three counted calls fit well inside the 2 s window on a busy host.
    const token = await tokenFor(issuer, "sec");
    for (const replica of short)
      expect((await post(replica, "leases.create", lease, "sec", token)).status).toBe(403);
    const refused = await post(short[0], "leases.create", lease, "sec", token);
    expectRateRefusal(refused, "limits.rates.leases", 2);
    // Retry-After rounds the rest of the window up to whole seconds.
    await sleep(Number(refused.retryAfter) * 1000 + 100);
    expect((await post(short[1], "leases.create", lease, "sec")).status).toBe(403);
  });

  it("answers a call refused by a cap with 429, the cap's name and when a slot frees", async () => {
    expect(
      (await post(replicas[0], "requests.create", { ...request, ticket: "INC-2" }, "mallory")).status,
    ).toBe(200);
    const refused = await post(replicas[1], "requests.create", { ...request, ticket: "INC-3" }, "mallory");
    expect(refused.status).toBe(429);
    expect(message(refused)).toContain("limits.pendingRequests");
    // The pending request's approval window (pendingTtl, a day by default) ends first.
    expect(Number(refused.retryAfter)).toBeGreaterThan(86_000);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(86_400);
  });

  it("lets every call through while the store cannot be reached (fail open): the API keeps working", async () => {
    const app = await apiReplica(db, unreachableStore(kind));
    // The broker answers the revocation: there is no such grant.
    expect((await post(app, "grants.revoke", { grantId: randomUUID() }, "sec")).status).toBe(404);
    // More calls than the limits allow (2 each), none refused by the limiter nor failed on the store:
    // the broker answers each (sec is neither a workload nor a requester of prod-readonly).
    for (let i = 0; i < 4; i++) {
      for (const reply of [
        await post(app, "leases.create", { targetId: "prod-readonly" }, "sec"),
        await post(app, "requests.create", request, "sec"),
      ]) {
        expect(reply.status).toBe(403);
      }
    }
  });
});

describe("the PostgreSQL store, unreachable", () => {
  it("logs a warning for each call it could not count, without the request failing", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
    const app = await apiReplica(await freshBrokerDatabase(), unreachableStore("postgres"), { logger });
    expect((await post(app, "leases.create", { targetId: "prod-readonly" }, "sec")).status).toBe(403);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
    expect(warnings).toContainEqual(
      expect.objectContaining({ level: 40, msg: "rate limit store unreachable", reason: expect.any(String) }),
    );
  });
});
