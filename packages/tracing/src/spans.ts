import { type Context, context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { allowedAttributes, type SpanAttributes } from "./span-attributes.js";

const tracer = () => trace.getTracer("leasehold");

let exporting = false;

/**
 * Whether spans are being exported (startTracingWith ran and has not stopped). With tracing off a
 * span would be the API's no-op, so hot paths skip it outright instead of building its attributes.
 */
export const tracingActive = (): boolean => exporting;

/** Said by startTracingWith when it starts and stops. */
export function setTracingActive(active: boolean): void {
  exporting = active;
}

export type SpanOptions = {
  readonly kind?: SpanKind;
  /** Start under this context instead of the active one (a job continuing its enqueuer's trace). */
  readonly parent?: Context;
  /**
   * Only as part of a trace already under way: with no span active, `work` runs without one (a commit
   * is worth a span inside a request or a job, not as a trace of its own every time a timer ticks).
   */
  readonly onlyInTrace?: boolean;
};

/** The kind of an error for a span: a domain error's code, else `internal`. Never its message. */
export function errorKind(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : "internal";
}

/**
 * Runs `work` inside a span named `name` (a constant or a procedure/queue name, never user text), with
 * allow-listed attributes; the span ends with `leasehold.outcome` `ok` or `error` (and the error's
 * kind). The error is rethrown unchanged; its message and stack are not recorded, as they may name
 * people or backends' answers. With tracing off (tracingActive), this is a plain call.
 */
export async function withSpan<T>(
  name: string,
  attributes: SpanAttributes,
  work: () => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  if (!exporting) return work();
  const parent = options.parent ?? context.active();
  if (options.onlyInTrace && trace.getSpan(parent) === undefined) return work();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: allowedAttributes(attributes) },
    parent,
    async (span) => {
      try {
        const result = await work();
        span.setAttribute("leasehold.outcome", "ok");
        return result;
      } catch (error) {
        span.setAttributes({ "leasehold.outcome": "error", "leasehold.error.kind": errorKind(error) });
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Adds allow-listed attributes to the active span (learned after it started: the caller's kind). */
export function annotateActiveSpan(attributes: SpanAttributes): void {
  trace.getActiveSpan()?.setAttributes(allowedAttributes(attributes));
}

export { SpanKind };
