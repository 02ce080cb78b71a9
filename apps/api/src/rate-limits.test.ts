import { randomUUID } from "node:crypto";
import { type Broker, createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database } from "@leasehold/db";
import type { Caps } from "@leasehold/domain";
import { providerRegistry } from "@leasehold/providers";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { createTestDatabase, type Person, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { buildServer } from "./server.js";
import { createAppRouter } from "./trpc/app-router.js";

/**
 * Rate limits (@fastify/rate-limit over Redis, per principal and use case) and caps (the broker's)
 * over HTTP: a refused call is a 429 that names the limit and says when to retry (Retry-After).
 * Small limits and counting, never waiting a window out.
 */

const RATES = { window: 60, requests: 2, leases: 2, revocations: 2 };
const CAPS: Caps = { pendingRequests: 1, activeGrants: 10, activeLeases: 10 };

let issuer: OidcIssuer;
let db: Database;
let redis: Redis;
/** Two API replicas over one database and one Redis. */
let replicas: FastifyInstance[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  db = await createTestDatabase("pglite");
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 2 });
  const config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", issuer.url), "test.yaml");
  const log = pino({ level: "silent" });
  const broker: Broker = createBroker({
    store: createStore(db, { auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
    targets: targetCatalog(config.targets),
    providers: providerRegistry([]),
    queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
    cipher: createCredentialCipher(Buffer.alloc(32, 2)),
    clock: () => new Date(),
    newId: randomUUID,
    admins: config.admins,
    log,
    caps: CAPS,
  });
  const prefix = `test-${randomUUID()}`;
  replicas = await Promise.all(
    [1, 2].map(() =>
      buildServer({
        appRouter: createAppRouter(broker),
        verifier: createTokenVerifier(config.identityProviders, { clock: () => new Date() }),
        readiness: {},
        logger: log,
        rateLimits: { redis, prefix, rates: RATES },
      }),
    ),
  );
});
afterAll(async () => {
  for (const app of replicas) await app.close();
  await redis?.quit();
  await db?.close();
  await issuer?.close();
});

type Reply = { status: number; retryAfter: string | undefined; body: unknown };

async function post(replica: number, path: string, payload: unknown, who: Person): Promise<Reply> {
  const app = replicas[replica];
  if (!app) throw new Error(`no replica ${replica}`);
  const response = await app.inject({
    method: "POST",
    url: `/trpc/${path}`,
    headers: { "content-type": "application/json", authorization: `Bearer ${await tokenFor(issuer, who)}` },
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

const expectRateRefusal = (reply: Reply, limit: string) => {
  expect(reply.status).toBe(429);
  expect((reply.body as { error: { data: { code: string } } }).error.data.code).toBe("TOO_MANY_REQUESTS");
  expect(message(reply)).toContain(limit);
  expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(reply.retryAfter)).toBeLessThanOrEqual(RATES.window);
};

describe("rate limits", () => {
  it("refuses a principal's third requests.create in the window with 429 and Retry-After, on every replica", async () => {
    // The first is recorded; the second is refused by the broker (a cap), not the rate, but counts.
    expect((await post(0, "requests.create", { ...request, ticket: "INC-1" }, "dev")).status).toBe(200);
    const second = await post(1, "requests.create", { ...request, ticket: "INC-1" }, "dev");
    expect(message(second)).toContain("limits.pendingRequests");
    expectRateRefusal(await post(0, "requests.create", request, "dev"), "limits.rates.requests");
    expectRateRefusal(await post(1, "requests.create", request, "dev"), "limits.rates.requests");
    // Another principal has a count of its own.
    expect((await post(0, "requests.create", request, "alice")).status).toBe(403);
  });

  it.each([
    ["leases.create", { targetId: "prod-readonly" }, "limits.rates.leases", "alice"],
    ["grants.revoke", { grantId: randomUUID() }, "limits.rates.revocations", "sec"],
  ] as const)("limits %s per principal", async (path, input, limit, who) => {
    for (const replica of [0, 1]) {
      expect((await post(replica, path, input, who)).status).not.toBe(429);
    }
    expectRateRefusal(await post(0, path, input, who), limit);
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
    expect(codes).toEqual(["FORBIDDEN", "FORBIDDEN", "TOO_MANY_REQUESTS"]);
    expect(Number(response.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  });
});

describe("caps over HTTP", () => {
  it("answers a call refused by a cap with 429, the cap's name and when a slot frees", async () => {
    expect((await post(0, "requests.create", { ...request, ticket: "INC-2" }, "mallory")).status).toBe(200);
    const refused = await post(1, "requests.create", { ...request, ticket: "INC-3" }, "mallory");
    expect(refused.status).toBe(429);
    expect(message(refused)).toContain("limits.pendingRequests");
    // The pending request's approval window (pendingTtl, a day by default) ends first.
    expect(Number(refused.retryAfter)).toBeGreaterThan(86_000);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(86_400);
  });
});

describe("when the rate limits' Redis cannot be reached", () => {
  let app: FastifyInstance;
  let unreachable: Redis;
  beforeAll(async () => {
    const config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", issuer.url), "test.yaml");
    // Port 1 answers nothing; commands fail at once instead of waiting for a connection.
    unreachable = new Redis({ port: 1, enableOfflineQueue: false, retryStrategy: () => null });
    unreachable.on("error", () => {});
    const log = pino({ level: "silent" });
    app = await buildServer({
      appRouter: createAppRouter(
        createBroker({
          store: createStore(db, { auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
          targets: targetCatalog(config.targets),
          providers: providerRegistry([]),
          queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
          cipher: createCredentialCipher(Buffer.alloc(32, 2)),
          clock: () => new Date(),
          newId: randomUUID,
          admins: config.admins,
          log,
        }),
      ),
      verifier: createTokenVerifier(config.identityProviders, { clock: () => new Date() }),
      readiness: {},
      logger: log,
      rateLimits: { redis: unreachable, prefix: "unreachable", rates: RATES },
    });
  });
  afterAll(async () => {
    await app?.close();
    unreachable?.disconnect();
  });

  const call = async (path: string, input: unknown) =>
    app.inject({
      method: "POST",
      url: `/trpc/${path}`,
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await tokenFor(issuer, "sec")}`,
      },
      payload: JSON.stringify(input),
    });

  it("lets every call through (fail open): the API keeps working while Redis is down", async () => {
    // The broker answers the revocation: there is no such grant.
    expect((await call("grants.revoke", { grantId: randomUUID() })).statusCode).toBe(404);
    // More calls than the limits allow (2 each), none refused by the limiter nor failed on Redis: the
    // broker answers each (sec is neither a workload nor a requester of prod-readonly).
    for (let i = 0; i < 4; i++) {
      for (const reply of [
        await call("leases.create", { targetId: "prod-readonly" }),
        await call("requests.create", request),
      ]) {
        expect(reply.statusCode).toBe(403);
      }
    }
  });
});
