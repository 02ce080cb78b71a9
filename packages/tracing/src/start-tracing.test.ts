import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { withSpan } from "./spans.js";
import { startTracing } from "./start-tracing.js";
import { injectTraceContext } from "./trace-context.js";

describe("startTracing", () => {
  it("starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT: spans are no-ops and jobs carry no context", async () => {
    const stop = startTracing({ serviceName: "leasehold-test", env: {} });
    const carried = await withSpan("requests.create", {}, async () => {
      expect(trace.getActiveSpan()?.isRecording() ?? false).toBe(false);
      return injectTraceContext();
    });
    expect(carried).toBeUndefined();
    await stop();
  });
});
