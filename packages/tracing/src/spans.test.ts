import { SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { withSpan } from "./spans.js";
import { type RunningTracing, startTracingWith } from "./start-tracing.js";
import { extractTraceContext, injectTraceContext } from "./trace-context.js";

const exporter = new InMemorySpanExporter();
let tracing: RunningTracing;
beforeAll(() => {
  tracing = startTracingWith({ serviceName: "leasehold-test", exporter, batch: false });
});
afterAll(() => tracing.stop());
beforeEach(() => exporter.reset());

const spanNamed = async (name: string) => {
  await tracing.flush();
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!span) throw new Error(`no span ${name}`);
  return span;
};

describe("spans", () => {
  it("keep allow-listed attributes and drop every other key, however it was set", async () => {
    await withSpan(
      "grants.credentials",
      // A caller that ignores the types: the key is not on the list, so it never leaves.
      { "rpc.method": "grants.credentials", token: "eyJhbGciOi.secret" } as never,
      async () => {
        trace.getActiveSpan()?.setAttribute("aws.secret_access_key", "wJalrXUtnFEMI/K7MDENG");
        trace.getActiveSpan()?.setAttribute("leasehold.grant.id", "g-1");
        trace.getActiveSpan()?.recordException(new Error("password=hunter2 refused"));
      },
    );
    const span = await spanNamed("grants.credentials");
    expect(span.attributes).toEqual({
      "rpc.method": "grants.credentials",
      "leasehold.grant.id": "g-1",
      "leasehold.outcome": "ok",
    });
    expect(span.events.map((e) => e.name)).toEqual(["exception"]);
    expect(JSON.stringify(span.events)).not.toContain("hunter2");
  });

  it("record a failure by its kind, never its message, and rethrow it", async () => {
    const refused = Object.assign(new Error("dev@example.com may not approve"), { code: "FORBIDDEN" });
    await expect(withSpan("reviews.submit", {}, () => Promise.reject(refused))).rejects.toBe(refused);
    const span = await spanNamed("reviews.submit");
    expect(span.attributes).toEqual({ "leasehold.outcome": "error", "leasehold.error.kind": "FORBIDDEN" });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    await expect(withSpan("x", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect((await spanNamed("x")).attributes["leasehold.error.kind"]).toBe("internal");
  });

  it("cut an over-long value: an id is short, so a long one is not what the list meant", async () => {
    await withSpan("long", { "leasehold.target.id": "t".repeat(500) }, async () => undefined);
    expect((await spanNamed("long")).attributes["leasehold.target.id"]).toBe("t".repeat(128));
  });

  it("nest: a span started inside another is its child, in the same trace", async () => {
    await withSpan("outer", {}, () => withSpan("inner", {}, async () => undefined));
    const outer = await spanNamed("outer");
    const inner = await spanNamed("inner");
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });
});

describe("trace context in job data", () => {
  it("continues the enqueuer's trace: the job's span is a child of the span that enqueued it", async () => {
    const carried = await withSpan("enqueue", {}, async () => injectTraceContext());
    expect(carried?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await withSpan("job", {}, async () => undefined, { parent: extractTraceContext(carried) });
    const enqueue = await spanNamed("enqueue");
    const job = await spanNamed("job");
    expect(job.spanContext().traceId).toBe(enqueue.spanContext().traceId);
    expect(job.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
  });

  it("carries nothing outside a span, and a malformed record starts a new trace", async () => {
    expect(injectTraceContext()).toBeUndefined();
    await withSpan("job", {}, async () => undefined, {
      parent: extractTraceContext({ traceparent: "00-not-a-trace", secret: "x" }),
    });
    expect((await spanNamed("job")).parentSpanContext).toBeUndefined();
  });
});
