import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { envDetector, hostDetector } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { allowListExporter } from "./allow-list-exporter.js";
import { MAX_ATTRIBUTE_LENGTH } from "./span-attributes.js";
import { setTracingActive } from "./spans.js";

/** What tracing reads from the environment (each app's env.ts parses it with config's `tracingEnv`). */
export type TracingEnv = {
  /** OTLP/HTTP base URL (`http://collector:4318`); unset: tracing is off. */
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
};

/** Stops tracing: flushes the spans still buffered, then releases the exporter. */
export type StopTracing = () => Promise<void>;

/** Tracing started on an exporter: `flush` sends every ended span now (a span waits for the host's resource attributes). */
export type RunningTracing = { readonly flush: () => Promise<void>; readonly stop: StopTracing };

/**
 * Starts OpenTelemetry for a process, sending spans to `exporter`. Traces only: no metrics (those are
 * Prometheus's, on /metrics) and no logs. No automatic instrumentation (an HTTP client's span would
 * record URLs, and a Vault path or a query string is not ours to vet), and no process resource
 * detector (it records the command line); the host and OTEL_RESOURCE_ATTRIBUTES are kept. Every span
 * leaves through the allow-list (allowListExporter).
 */
export function startTracingWith(options: {
  readonly serviceName: string;
  readonly exporter: SpanExporter;
  /** Batch in production; a test exports each span as it ends. */
  readonly batch?: boolean;
}): RunningTracing {
  const exporter = allowListExporter(options.exporter);
  const processor =
    options.batch === false ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: [processor],
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH },
    textMapPropagator: new W3CTraceContextPropagator(),
    resourceDetectors: [envDetector, hostDetector],
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  setTracingActive(true);
  return {
    flush: () => processor.forceFlush(),
    stop: async () => {
      setTracingActive(false);
      await sdk.shutdown();
    },
  };
}

/**
 * Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set, exporting over OTLP/HTTP to its `/v1/traces`
 * (headers such as an API key come from OTEL_EXPORTER_OTLP_HEADERS, read by the exporter itself).
 * Unset: nothing starts, every span is the API's no-op, and the returned stop does nothing.
 */
export function startTracing(options: {
  readonly serviceName: string;
  readonly env: TracingEnv;
}): StopTracing {
  const endpoint = options.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return async () => undefined;
  return startTracingWith({
    serviceName: options.serviceName,
    exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }),
  }).stop;
}
