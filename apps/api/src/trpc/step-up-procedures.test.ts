import { randomUUID } from "node:crypto";
import { type Broker, createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database } from "@leasehold/db";
import type { Authentication, Principal } from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { providerRegistry } from "@leasehold/providers";
import { createTestDatabase, TEST_CONFIG } from "@leasehold/test-kit";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppRouter } from "./app-router.js";

/*
 * Step-up and the reads around a request or grant, through the tRPC handler over a real broker on
 * PostgreSQL: a refusal for want of a fresh sign-in carries `data.stepUp.targetId` for the console;
 * requests.history, grants.timeline, grants.revocationDebt and rotations.list answer their allowed
 * callers with rendered data and refuse everyone else.
 */

const GUARDED = `  - id: prod-guarded
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    stepUp: { maxAge: 5m }
    aws: { roleArn: "arn:aws:iam::123456789012:role/ProdGuarded" }
`;

const human = (id: string, groups: string[], authentication?: Authentication): Principal => ({
  id,
  kind: "human",
  provider: "corp",
  subject: `sub-${id}`,
  groups,
  ...(authentication ? { authentication } : {}),
});
const dev = human("dev@example.com", ["engineering"]);
const mallory = human("mallory@example.com", ["engineering"]);
const sec = human("sec@example.com", ["security"]);
const aliceInSlack = human("alice@example.com", ["sre"], { method: "slack" });
const aliceFresh = () =>
  human("alice@example.com", ["sre"], { method: "console", authTime: new Date(), acr: "urn:pwd" });

let db: Database;
let broker: Broker;
let router: ReturnType<typeof createAppRouter>;

beforeAll(async () => {
  db = await createTestDatabase("postgres");
  const config = parseConfig(
    `${TEST_CONFIG}${GUARDED}`.replaceAll("{issuer}", "https://idp.example.com"),
    "t.yaml",
  );
  const targets = targetCatalog(config.targets);
  broker = createBroker({
    store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
    targets,
    providers: providerRegistry([]),
    queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
    cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 3) }),
    clock: () => new Date(),
    newId: randomUUID,
    policy: policyEngineFor({ targets: targets.list(), admins: config.admins }),
    log: { info() {}, warn() {}, error() {} },
  });
  router = createAppRouter(broker);
});
afterAll(async () => {
  await db?.close();
});

type Answer = {
  status: number;
  result?: { data: unknown };
  error?: { message: string; data: { code: string; stepUp?: { targetId: string } } };
};

/** One call as the console's httpLink makes it: a GET for a query, a POST for a mutation. */
async function call(who: Principal, path: string, input?: unknown): Promise<Answer> {
  const mutation = path === "reviews.submit";
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const req = mutation
    ? new Request(`http://api.test/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
      })
    : new Request(`http://api.test/trpc/${path}${query}`);
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req,
    router,
    createContext: () => ({
      auth: { principal: who },
      requestId: "test",
      logError: () => {},
      checkRate: async () => {},
    }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer, "status">) };
}

const reviewCount = async (requestId: string) =>
  (
    await db.query<{ n: number }>("SELECT count(*)::int AS n FROM reviews WHERE request_id = $1", [requestId])
  )[0]?.n;

describe("step-up over tRPC", () => {
  it("refuses a Slack-authenticated approval with data.stepUp naming the target, recording nothing; a fresh sign-in approves", async () => {
    const { request } = await broker.requests.create(dev, {
      targetId: "prod-guarded",
      reason: "look at INC-7",
      durationSeconds: 900,
    });
    const refused = await call(aliceInSlack, "reviews.submit", {
      requestId: request.id,
      decision: "approve",
    });
    expect(refused.status).toBe(403);
    expect(refused.error?.data).toMatchObject({ code: "FORBIDDEN", stepUp: { targetId: "prod-guarded" } });
    expect(refused.error?.message).toMatch(/sign-in with the identity provider within the last 5m/);
    expect(await reviewCount(request.id)).toBe(0);

    const approved = await call(aliceFresh(), "reviews.submit", {
      requestId: request.id,
      decision: "approve",
    });
    expect(approved.status).toBe(200);
    expect(approved.result?.data).toMatchObject({
      request: { state: "approved" },
      grantId: expect.any(String),
    });
  });

  it("leaves other refusals without stepUp", async () => {
    const { request } = await broker.requests.create(dev, {
      targetId: "prod-readonly",
      reason: "look at INC-8",
      durationSeconds: 900,
      ticket: "INC-8",
    });
    const refused = await call(mallory, "reviews.submit", { requestId: request.id, decision: "approve" });
    expect(refused.status).toBe(403);
    expect(refused.error?.data.stepUp).toBeUndefined();
  });
});

describe("the reads around a request or a grant over tRPC", () => {
  let grantId: string;
  let requestId: string;
  beforeAll(async () => {
    const first = await broker.requests.create(dev, {
      targetId: "prod-guarded",
      reason: "look at INC-9",
      durationSeconds: 900,
    });
    const { grant } = await broker.reviews.submit(aliceFresh(), {
      requestId: first.request.id,
      decision: "approve",
    });
    grantId = grant?.id ?? "";
    requestId = (
      await broker.requests.create(dev, {
        targetId: "prod-guarded",
        reason: "again INC-9",
        durationSeconds: 900,
      })
    ).request.id;
  });

  it("requests.history: the request's approver sees the requester's grants on the target; another person is refused", async () => {
    const answer = await call(aliceInSlack, "requests.history", { requestId });
    const grants =
      (answer.result?.data as { grants: { id: string; createdAt: string }[] } | undefined)?.grants ?? [];
    expect(grants.map((g) => g.id)).toContain(grantId);
    expect(grants[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call(mallory, "requests.history", { requestId })).status).toBe(404);
  });

  it("grants.timeline: the holder reads the grant's events oldest first, with how the approver signed in; another person is refused", async () => {
    const answer = await call(dev, "grants.timeline", { grantId });
    type Events = { events: { action: string; at: string; data: unknown }[] };
    const events = (answer.result?.data as Events | undefined)?.events ?? [];
    expect(events.map((e) => e.action)).toEqual([
      "request.created",
      "request.reviewed",
      "request.approved",
      "grant.created",
    ]);
    expect(events[1]?.data).toMatchObject({ authentication: { method: "console", acr: "urn:pwd" } });
    expect(events[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call(mallory, "grants.timeline", { grantId })).status).toBe(404);
  });

  it("grants.revocationDebt and rotations.list: admins only", async () => {
    expect(await call(sec, "grants.revocationDebt", { limit: 10 })).toMatchObject({
      status: 200,
      result: { data: [] },
    });
    expect((await call(dev, "grants.revocationDebt", { limit: 10 })).status).toBe(403);
    expect(await call(sec, "rotations.list")).toMatchObject({ status: 200, result: { data: [] } });
    expect((await call(dev, "rotations.list")).status).toBe(403);
  });

  it("refuses unbounded input before any use case runs", async () => {
    expect((await call(sec, "grants.revocationDebt", { limit: 10_000 })).status).toBe(400);
    expect((await call(dev, "grants.timeline", { grantId: "not-a-uuid" })).status).toBe(400);
  });
});
