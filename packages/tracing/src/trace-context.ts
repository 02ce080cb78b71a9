import { type Context, context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { z } from "zod";

/**
 * The trace context a queued job carries (W3C Trace Context: `traceparent`, and `tracestate` when a
 * vendor set one), so the worker's span continues the trace of the call that enqueued it. Bounded:
 * job data lives in the queue store, and a payload from there is input like any other.
 */
export const traceCarrierSchema = z
  .object({
    traceparent: z
      .string()
      .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, "must be a W3C traceparent"),
    tracestate: z.string().max(512).optional(),
  })
  .strict();

export type TraceCarrier = z.output<typeof traceCarrierSchema>;

/**
 * The active trace context as a record for job data, or undefined when there is none to carry
 * (tracing off, or no span active): then the job data stays as it was.
 */
export function injectTraceContext(from: Context = context.active()): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  const parsed = traceCarrierSchema.safeParse({
    traceparent: carrier.traceparent,
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/**
 * The context to continue a job's trace in. A missing or malformed record starts a new trace (the
 * job still runs: tracing never decides whether work happens).
 */
export function extractTraceContext(carrier: unknown): Context {
  const parsed = traceCarrierSchema.safeParse(carrier);
  if (!parsed.success) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { ...parsed.data });
}
