import { randomBytes, randomUUID } from "node:crypto";
import { startApi } from "@leasehold/api/start-api";
import { parseConfig } from "@leasehold/config";
import { createLogger, type OpenBroker, openBroker } from "@leasehold/runtime";
import {
  type AwsSandbox,
  type OidcIssuer,
  SANDBOX_ACCESS_KEY,
  startAwsSandbox,
  startOidcIssuer,
} from "@leasehold/sandbox";
import {
  createPostgresDatabase,
  eventually,
  PEOPLE,
  type Person,
  ROLE_ARN,
  TEST_CONFIG,
  testRedisUrl,
  tokenFor,
} from "@leasehold/test-kit";
import { ALLOWED_ATTRIBUTES, type RunningTracing, startTracingWith } from "@leasehold/tracing";
import { startWorker } from "@leasehold/worker/start-worker";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The API and the worker in this process (as local mode runs them), on real PostgreSQL and Redis, the
 * AWS SDK against the STS stand-in, and every span they make kept by an in-memory exporter behind the
 * same allow-list an OTLP exporter gets. A request approved over HTTP must show as one trace: the tRPC
 * call → the enqueue → the worker's job (continued from the job data) → the provider call and the commit.
 */
describe("traces", () => {
  const spans = new InMemorySpanExporter();
  let tracing: RunningTracing;
  let sandbox: AwsSandbox;
  let issuer: OidcIssuer;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let open: OpenBroker;
  let worker: { close(): Promise<void> };
  let api: { address: string; close(): Promise<void> };
  const masterKey = randomBytes(32);
  const queuePrefix = `lh-trace-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    tracing = startTracingWith({ serviceName: "leasehold-test", exporter: spans, batch: false });
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }] });
    issuer = await startOidcIssuer();
    database = await createPostgresDatabase();
    const log = createLogger("leasehold-test", "silent");
    const config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", issuer.url), "leasehold.yaml");
    open = await openBroker({
      config,
      databaseUrl: database.url,
      dataDir: "unused",
      queue: { backend: "redis", redisUrl: testRedisUrl(), prefix: queuePrefix },
      masterKey,
      aws: { region: "us-east-1", endpoint: sandbox.url, credentials: SANDBOX_ACCESS_KEY },
      log,
    });
    worker = await startWorker({
      useCases: { ...open.broker, notifications: undefined },
      queue: open.queue,
      ensureSchedules: async () => undefined,
      concurrency: 2,
      lockMs: 30_000,
      sweepIntervalMs: 60_000,
      log,
    });
    api = await startApi({
      useCases: open.broker,
      readiness: open.readiness,
      identityProviders: config.identityProviders,
      host: "127.0.0.1",
      port: 0,
      log,
      rateLimits: { store: open.shortLivedState, rates: config.limits.rates },
    });
  }, 90_000);
  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await open?.close();
    await database?.close();
    await issuer?.close();
    await sandbox?.close();
    await tracing?.stop();
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("shows api → worker → provider as one trace, with no token, credential or email in any span", async () => {
    const tokens = new Map<Person, string>();
    for (const who of ["dev", "alice", "bob"] as const) tokens.set(who, await tokenFor(issuer, who));
    const call = async (who: Person, procedure: string, input: unknown) => {
      const response = await fetch(`${api.address}/trpc/${procedure}`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.get(who)}`, "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      const body = (await response.json()) as { result?: { data: Record<string, unknown> }; error?: unknown };
      if (!body.result) throw new Error(`${procedure} failed: ${JSON.stringify(body.error)}`);
      return body.result.data;
    };

    const request = await call("dev", "requests.create", {
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "investigate INC-42",
      ticket: "OPS-42",
    });
    await call("alice", "reviews.submit", { requestId: request.id, decision: "approve" });
    const approved = await call("bob", "reviews.submit", { requestId: request.id, decision: "approve" });
    const grantId = String(approved.grantId);
    const credential = await eventually(
      async () => {
        const answer = await call("dev", "grants.credentials", { grantId }).catch(() => undefined);
        return answer?.credential as Record<string, string> | undefined;
      },
      20_000,
      "the worker to issue the grant",
    );
    await tracing.flush();
    const finished = spans.getFinishedSpans();
    const named = (name: string, match: (s: ReadableSpan) => boolean = () => true) => {
      const found = finished.filter((s) => s.name === name && match(s));
      expect(
        found.map((s) => s.name),
        `one span ${name}`,
      ).toEqual([name]);
      return found[0] as ReadableSpan;
    };
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const idOf = (span: ReadableSpan) => span.spanContext().spanId;

    // The final approval's call, its enqueue, the job that continued it, the provider call, the commits.
    const review = named("trpc reviews.submit", (s) =>
      finished.some((e) => e.name === "enqueue grant-issue" && parentOf(e) === idOf(s)),
    );
    expect(review.attributes).toMatchObject({
      "rpc.method": "reviews.submit",
      "leasehold.principal.kind": "human",
      "leasehold.outcome": "ok",
    });
    const enqueue = named("enqueue grant-issue");
    expect(parentOf(enqueue)).toBe(idOf(review));
    const job = named("job grant-issue");
    expect(parentOf(job)).toBe(idOf(enqueue));
    expect(job.attributes).toMatchObject({ "leasehold.grant.id": grantId, "leasehold.outcome": "ok" });
    // The job the API queued is the one the worker ran (its id derives from the grant's, grantJobId).
    expect(enqueue.attributes["messaging.message.id"]).toBe(job.attributes["messaging.message.id"]);
    expect(enqueue.attributes["messaging.message.id"]).toMatch(/^[\w-]{22}$/);
    const issue = named("provider.issue");
    expect(parentOf(issue)).toBe(idOf(job));
    expect(issue.attributes).toMatchObject({
      "leasehold.provider.kind": "aws-role",
      "leasehold.grant.id": grantId,
      "leasehold.target.id": "prod-readonly",
      "leasehold.outcome": "ok",
    });
    const jobCommits = finished.filter((s) => s.name === "commit" && parentOf(s) === idOf(job));
    // The attempt is committed before the provider is called, and the issued grant after it.
    expect(
      jobCommits.some(
        (c) => c.startTime[0] * 1e9 + c.startTime[1] > issue.endTime[0] * 1e9 + issue.endTime[1],
      ),
    ).toBe(true);
    const traceId = review.spanContext().traceId;
    for (const span of [enqueue, job, issue, ...jobCommits]) expect(span.spanContext().traceId).toBe(traceId);
    expect(finished.some((s) => s.name === "commit" && parentOf(s) === idOf(review))).toBe(true);

    // Nothing secret in any span: not the bearer tokens, the credential, the master key, nor a person's email.
    const forbidden = [
      ...tokens.values(),
      credential.secretAccessKey,
      credential.sessionToken,
      masterKey.toString("base64"),
      masterKey.toString("hex"),
      ...Object.values(PEOPLE).map((p) => p.email),
    ].filter((s): s is string => typeof s === "string" && s.length > 0);
    expect(forbidden.length).toBeGreaterThanOrEqual(6);
    const allowed: ReadonlySet<string> = new Set(ALLOWED_ATTRIBUTES);
    for (const span of finished) {
      expect(Object.keys(span.attributes).filter((k) => !allowed.has(k))).toEqual([]);
      const seen = JSON.stringify({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        links: span.links,
        status: span.status,
      });
      for (const secret of forbidden)
        expect(seen.includes(secret), `${span.name} carries a secret`).toBe(false);
    }
  });
});
