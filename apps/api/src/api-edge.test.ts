import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { type Broker, createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database } from "@leasehold/db";
import { policyEngineFor } from "@leasehold/policy";
import { providerRegistry } from "@leasehold/providers";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { createTestDatabase, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { buildServer } from "./server.js";
import { createAppRouter } from "./trpc/app-router.js";

/**
 * The API's edge over HTTP (Fastify's inject): authentication, input validation and error shapes.
 * Every refusal must be clear, change nothing, and log no secret.
 */

/** A target one approval is enough for: where a pre-approval window may stand for it. */
const SINGLE_APPROVAL_TARGET = `  - id: staging-readonly
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    aws: { roleArn: "arn:aws:iam::123456789012:role/StagingReadOnly" }
`;

let issuer: OidcIssuer;
let db: Database;
let app: FastifyInstance;
let broker: Broker;
let appRouter: ReturnType<typeof createAppRouter>;
let logs = "";
let redis: Redis;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  db = await createTestDatabase("pglite");
  const config = parseConfig(
    `${TEST_CONFIG}${SINGLE_APPROVAL_TARGET}`.replaceAll("{issuer}", issuer.url),
    "test.yaml",
  );
  const targets = targetCatalog(config.targets);
  const log = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _encoding, done) {
        logs += String(chunk);
        done();
      },
    }),
  );
  broker = createBroker({
    store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
    targets,
    providers: providerRegistry([]),
    queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
    cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 2) }),
    clock: () => new Date(),
    newId: randomUUID,
    policy: policyEngineFor({ targets: targets.list(), admins: config.admins }),
    log,
  });
  appRouter = createAppRouter(broker);
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 2 });
  app = await buildServer({
    appRouter,
    verifier: createTokenVerifier(config.identityProviders, { clock: () => new Date() }),
    readiness: { database: () => db.query("SELECT 1") },
    logger: log,
    // These tests call requests.create dozens of times a minute; rate-limits.test.ts covers the limits.
    rateLimits: {
      store: { kind: "redis", redis, prefix: `test-${randomUUID()}` },
      rates: { ...config.limits.rates, requests: 1000, leases: 1000, revocations: 1000 },
    },
  });
});
afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await db?.close();
  await issuer?.close();
});

type Reply = { status: number; message: string; body: unknown };

/** Calls a procedure the way @trpc/client's httpLink does. */
async function call(path: string, input: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const procedure = (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[
    path
  ];
  const mutation = procedure?._def.type === "mutation";
  const response = mutation
    ? await app.inject({
        method: "POST",
        url: `/trpc/${path}`,
        headers: { "content-type": "application/json", ...headers },
        payload: JSON.stringify(input),
      })
    : await app.inject({
        method: "GET",
        url: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
        headers,
      });
  const body = response.json() as { error?: { message?: string } };
  return { status: response.statusCode, message: body.error?.message ?? "", body };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const validRequest = { targetId: "prod-readonly", durationSeconds: 900, reason: "investigate INC-1" };
const counts = async () =>
  (
    await db.query<{ requests: string; events: string }>(
      "SELECT (SELECT count(*) FROM access_requests)::text AS requests, (SELECT count(*) FROM audit_events)::text AS events",
    )
  )[0];
const now = () => Math.floor(Date.now() / 1000);

describe("authentication", () => {
  const dev = { sub: "sub-dev", email: "dev@example.com", email_verified: true, groups: ["engineering"] };
  const cases: [string, () => Promise<Record<string, string>>, RegExp][] = [
    ["no Authorization header", async () => ({}), /Authorization: Bearer/],
    ["a Basic scheme", async () => ({ authorization: "Basic ZGV2OnB3" }), /Authorization: Bearer/],
    ["a token that is not a JWT", async () => bearer("not.a.jwt"), /not a JWT/],
    [
      "an expired token",
      async () =>
        bearer(await issuer.mint(dev, { audience: "leasehold", iat: now() - 600, exp: now() - 120 })),
      /expired/,
    ],
    [
      "a token for another audience",
      async () => bearer(await issuer.mint(dev, { audience: "grafana" })),
      /audience/,
    ],
    [
      "a token from an untrusted issuer",
      async () =>
        bearer(await issuer.mint({ ...dev, iss: "https://evil.example.com" }, { audience: "leasehold" })),
      /issuer is not trusted/,
    ],
    [
      "a forged signature",
      async () => bearer(await issuer.mint(dev, { audience: "leasehold", signWithUnknownKey: true })),
      /signature|key/,
    ],
    [
      "an unsigned token (alg none)",
      async () => bearer(await issuer.mint(dev, { audience: "leasehold", alg: "none" })),
      /algorithm|not valid/,
    ],
    [
      "a token not valid yet",
      async () => bearer(await issuer.mint(dev, { audience: "leasehold", nbf: now() + 600 })),
      /not valid yet|nbf/,
    ],
    [
      "a token without a subject",
      async () => bearer(await issuer.mint(dev, { audience: "leasehold", omit: ["sub"] })),
      /sub/,
    ],
    [
      "a token without expiry",
      async () => bearer(await issuer.mint(dev, { audience: "leasehold", omit: ["exp"] })),
      /exp/,
    ],
    [
      "an unverified email",
      async () => bearer(await issuer.mint({ ...dev, email_verified: false }, { audience: "leasehold" })),
      /not verified/,
    ],
    [
      "a token without an email",
      async () => bearer(await issuer.mint({ ...dev, email: undefined }, { audience: "leasehold" })),
      /email/,
    ],
    [
      "groups that are not a list of names",
      async () => bearer(await issuer.mint({ ...dev, groups: "sre" }, { audience: "leasehold" })),
      /groups/,
    ],
    ["an oversized token", async () => bearer(`${"a".repeat(9000)}.b.c`), /too large/],
  ];

  it.each(cases)("refuses %s with 401, a reason, and no change", async (_name, headers, message) => {
    const before = await counts();
    const sent = await headers();
    const reply = await call("requests.create", validRequest, sent);
    expect(reply.status).toBe(401);
    expect(reply.message).toMatch(message);
    expect(await counts()).toEqual(before);
    const token = sent.authorization?.replace(/^\S+ /, "");
    if (token) expect(logs).not.toContain(token);
  });

  it("every procedure refuses a caller without a token", async () => {
    const procedures = Object.keys(appRouter._def.procedures);
    expect(procedures.length).toBeGreaterThanOrEqual(14);
    for (const path of procedures) {
      const reply = await call(path, {});
      expect({ path, status: reply.status }).toEqual({ path, status: 401 });
    }
  });

  it("accepts a valid token", async () => {
    const reply = await call("me", undefined, bearer(await tokenFor(issuer, "dev")));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      result: { data: { id: "dev@example.com", groups: ["engineering"] } },
    });
  });
});

describe("input validation", () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    [
      "an empty reason",
      "requests.create",
      { ...validRequest, reason: "" },
      400,
      /reason: reason must be at least 3/,
    ],
    [
      "an oversize reason",
      "requests.create",
      { ...validRequest, reason: "x".repeat(1001) },
      400,
      /at most 1000/,
    ],
    [
      "a reason with a NUL",
      "requests.create",
      { ...validRequest, reason: "drop\u0000table" },
      400,
      /control characters/,
    ],
    [
      "a reason with a bidi override",
      "requests.create",
      { ...validRequest, reason: "fix \u202Etxt.exe" },
      400,
      /bidirectional/,
    ],
    [
      "a reason with a lone UTF-16 surrogate",
      "requests.create",
      { ...validRequest, reason: "fix \uD800 now" },
      400,
      /reason: reason must not contain malformed Unicode/,
    ],
    [
      "a reason with a zero-width space",
      "requests.create",
      { ...validRequest, reason: "fix pr\u200Bod now" },
      400,
      /reason: reason must not contain invisible/,
    ],
    [
      "a ticket with a line separator",
      "requests.create",
      { ...validRequest, ticket: "OPS-1\u2028OPS-2" },
      400,
      /ticket: ticket must not contain invisible/,
    ],
    [
      "a denial comment with Unicode tag characters",
      "reviews.submit",
      { requestId: randomUUID(), decision: "deny", comment: "no\u{E0041}\u{E0042}" },
      400,
      /comment: comment must not contain invisible/,
    ],
    ["a missing reason", "requests.create", { targetId: "prod-readonly" }, 400, /reason/],
    [
      "an unknown target",
      "requests.create",
      { ...validRequest, targetId: "prod-admin" },
      404,
      /no target called prod-admin/,
    ],
    [
      "a malformed target id",
      "requests.create",
      { ...validRequest, targetId: "Prod Admin" },
      400,
      /target id/,
    ],
    ["a duration of 0", "requests.create", { ...validRequest, durationSeconds: 0 }, 400, /at least 1 second/],
    [
      "a negative duration",
      "requests.create",
      { ...validRequest, durationSeconds: -900 },
      400,
      /at least 1 second/,
    ],
    [
      "a huge duration",
      "requests.create",
      { ...validRequest, durationSeconds: 10 ** 12 },
      400,
      /at most 43200/,
    ],
    [
      "a fractional duration",
      "requests.create",
      { ...validRequest, durationSeconds: 900.5 },
      400,
      /whole number/,
    ],
    [
      "a duration as text",
      "requests.create",
      { ...validRequest, durationSeconds: "1h" },
      400,
      /whole number/,
    ],
    [
      "a duration under STS's minimum",
      "requests.create",
      { ...validRequest, durationSeconds: 600 },
      400,
      /at least 900/,
    ],
    [
      "a duration over the target's maximum",
      "requests.create",
      { ...validRequest, durationSeconds: 3601 },
      400,
      /at most 3600/,
    ],
    [
      "a ticket STS would refuse as a tag",
      "requests.create",
      { ...validRequest, ticket: "OPS-1;DROP" },
      400,
      /ticket may contain only/,
    ],
    ["a ticket in the wrong format", "requests.create", { ...validRequest, ticket: "ops 1" }, 400, /format/],
    [
      "an oversize ticket",
      "requests.create",
      { ...validRequest, ticket: "A".repeat(129) },
      400,
      /at most 128/,
    ],
    ["an unknown field", "requests.create", { ...validRequest, role: "admin" }, 400, /role/],
    ["a review of a non-id", "reviews.submit", { requestId: "1 OR 1=1", decision: "approve" }, 400, /UUID/],
    [
      "a denial without a comment",
      "reviews.submit",
      { requestId: randomUUID(), decision: "deny" },
      400,
      /needs a comment/,
    ],
    [
      "an unknown decision",
      "reviews.submit",
      { requestId: randomUUID(), decision: "maybe" },
      400,
      /decision/,
    ],
    ["credentials of a non-id", "grants.credentials", { grantId: "../../etc/passwd" }, 400, /UUID/],
    [
      "credentials of an unknown grant",
      "grants.credentials",
      { grantId: randomUUID() },
      404,
      /no such grant/,
    ],
    ["an audit page too large", "audit.list", { afterSeq: 0, limit: 100000 }, 400, /limit/],
    [
      "an access report over more than 366 days",
      "reports.access",
      { from: "2025-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" },
      400,
      /at most 366 days/,
    ],
    [
      "an access report from no time",
      "reports.access",
      { from: "last week", to: "2026-03-01T00:00:00Z" },
      400,
      /ISO 8601/,
    ],
    [
      "an access report for someone neither admin nor auditor",
      "reports.access",
      { from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" },
      403,
      /only admins and auditors/,
    ],
    ["a break-glass without a reason", "requests.breakGlass", { targetId: "prod-readonly" }, 400, /reason/],
    [
      "a break-glass with a blank reason",
      "requests.breakGlass",
      { targetId: "prod-readonly", reason: "   " },
      400,
      /reason must be at least 3/,
    ],
    [
      "a break-glass by someone the target does not allow",
      "requests.breakGlass",
      { targetId: "prod-readonly", reason: "prod is down" },
      403,
      /you may not break glass on prod-readonly/,
    ],
    [
      "an unknown break-glass verdict",
      "requests.reviewBreakGlass",
      { requestId: randomUUID(), verdict: "meh" },
      400,
      /verdict/,
    ],
    [
      "a review of no break-glass",
      "requests.reviewBreakGlass",
      { requestId: randomUUID(), verdict: "justified" },
      404,
      /no such break-glass/,
    ],
  ];

  it.each(cases)("refuses %s clearly and changes nothing", async (_name, path, input, status, message) => {
    const before = await counts();
    const reply = await call(path, input, bearer(await tokenFor(issuer, "dev")));
    expect(reply.status).toBe(status);
    expect(reply.message).toMatch(message);
    expect(await counts()).toEqual(before);
  });

  it("refuses a body over the size limit", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/trpc/requests.create",
      headers: { "content-type": "application/json", ...bearer(await tokenFor(issuer, "dev")) },
      payload: JSON.stringify({ ...validRequest, reason: "x".repeat(100_000) }),
    });
    expect(response.statusCode).toBe(413);
  });

  it("accepts a valid request and answers without caching", async () => {
    const before = await counts();
    const response = await app.inject({
      method: "POST",
      url: "/trpc/requests.create",
      headers: { "content-type": "application/json", ...bearer(await tokenFor(issuer, "dev")) },
      payload: JSON.stringify(validRequest),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(Number((await counts())?.requests)).toBe(Number(before?.requests) + 1);
  });
});

describe("pre-approval windows", () => {
  const inHours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();
  const window = {
    principalId: "dev@example.com",
    targetId: "staging-readonly",
    startsAt: inHours(2),
    endsAt: inHours(8),
    reason: "maintenance night CHG-9",
  };
  const windows = async () =>
    Number((await db.query<{ n: string }>("SELECT count(*)::text AS n FROM pre_approvals"))[0]?.n);
  const cases: [string, string, unknown, number, RegExp][] = [
    ["a window over 7 days", "alice", { ...window, endsAt: inHours(2 + 7 * 24 + 1) }, 400, /at most 7 days/],
    ["a time without a zone", "alice", { ...window, startsAt: "2026-12-24T22:00:00" }, 400, /with a zone/],
    [
      "a window already over",
      "alice",
      { ...window, startsAt: inHours(-3), endsAt: inHours(-1) },
      400,
      /ended/,
    ],
    [
      "a start 31 days ahead",
      "alice",
      { ...window, startsAt: inHours(744), endsAt: inHours(748) },
      400,
      /30 days/,
    ],
    ["a workload", "alice", { ...window, principalId: "k8s:orders" }, 400, /only a person/],
    ["an oversize reason", "alice", { ...window, reason: "x".repeat(501) }, 400, /at most 500/],
    ["an unknown field", "alice", { ...window, requiredApprovals: 0 }, 400, /requiredApprovals/],
    ["a non-approver", "mallory", window, 403, /may not approve dev@example.com's requests/],
    ["the person themself", "alice", { ...window, principalId: "alice@example.com" }, 403, /yourself/],
  ];

  it.each(cases)("refuses %s clearly and records nothing", async (_name, who, input, status, message) => {
    const [before, rows] = [await counts(), await windows()];
    const reply = await call("preApprovals.create", input, bearer(await tokenFor(issuer, who as "alice")));
    expect({ status: reply.status, message: reply.message }).toEqual({
      status,
      message: expect.stringMatching(message),
    });
    expect(await counts()).toEqual(before);
    expect(await windows()).toBe(rows);
  });

  it("an approver creates a window, the person sees it, the approver revokes it", async () => {
    const created = await call("preApprovals.create", window, bearer(await tokenFor(issuer, "alice")));
    expect(created.status).toBe(200);
    const { id } = (created.body as { result: { data: { id: string } } }).result.data;
    expect(created.body).toMatchObject({
      result: { data: { principalId: "dev@example.com", approverId: "alice@example.com", revokedAt: null } },
    });
    const listed = await call("preApprovals.list", { current: true }, bearer(await tokenFor(issuer, "dev")));
    expect(listed.body).toMatchObject({ result: { data: [{ id, startsAt: window.startsAt }] } });
    const hidden = await call("preApprovals.list", {}, bearer(await tokenFor(issuer, "mallory")));
    expect(hidden.body).toMatchObject({ result: { data: [] } });
    expect(
      (await call("preApprovals.revoke", { preApprovalId: id }, bearer(await tokenFor(issuer, "bob"))))
        .status,
    ).toBe(403);
    const revoked = await call(
      "preApprovals.revoke",
      { preApprovalId: id },
      bearer(await tokenFor(issuer, "alice")),
    );
    expect(revoked.body).toMatchObject({ result: { data: { id, revokedBy: "alice@example.com" } } });
    const again = await call(
      "preApprovals.revoke",
      { preApprovalId: id },
      bearer(await tokenFor(issuer, "alice")),
    );
    expect(again).toMatchObject({
      status: 409,
      message: expect.stringMatching(/already ended or been revoked/),
    });
  });
});

describe("HTTP", () => {
  it("sends security headers on every response", async () => {
    for (const url of ["/healthz", "/trpc/me", "/no-such-page"]) {
      const { headers } = await app.inject({ url });
      expect(headers["strict-transport-security"], url).toMatch(/max-age=\d+/);
      expect(headers["x-content-type-options"], url).toBe("nosniff");
      expect(headers["x-frame-options"], url).toBe("SAMEORIGIN");
      expect(headers["content-security-policy"], url).toMatch(/default-src 'none'/);
      expect(headers["x-powered-by"], url).toBeUndefined();
    }
  });

  it.each(["TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "CONNECT"])(
    "answers %s with 405 and the methods allowed, never 500",
    async (method) => {
      for (const url of ["/trpc/me", "/trpc/requests.create", "/healthz"]) {
        const response = await app.inject({ method: method as "GET", url });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 405 });
        expect(response.headers.allow).toBe("GET, HEAD, POST");
      }
    },
  );

  it("never logs a token sent in the URL", async () => {
    const token = await tokenFor(issuer, "dev");
    const before = logs.length;
    for (const url of [
      `/trpc/me?access_token=${token}`,
      `/trpc/requests.list?input=%7B%7D&token=${token}`,
      `/no-such-page?access_token=${token}`,
      `/trpc/${token}`,
    ]) {
      await app.inject({ url });
    }
    const written = logs.slice(before);
    expect(written).toContain("incoming request");
    expect(written).not.toContain(token);
    for (const part of token.split(".")) expect(written).not.toContain(part);
  });
});

describe("health", () => {
  it("answers /healthz and /readyz", async () => {
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
    const ready = await app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true, checks: { database: "ok" } });
  });
});
