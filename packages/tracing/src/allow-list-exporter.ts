import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { allowedAttributes } from "./span-attributes.js";

/** A span as it may leave the process: allow-listed attributes, no status message, events by name only. */
function allowListed(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    // A status message is free text (an exception's message): only the code goes out.
    status: { code: span.status.code },
    attributes: allowedAttributes(span.attributes),
    links: span.links.map((link) => ({
      context: link.context,
      attributes: allowedAttributes(link.attributes),
    })),
    // An exception event carries the message and stack; events keep their name and time only.
    events: span.events.map((event) => ({
      name: event.name,
      time: event.time,
      attributes: allowedAttributes(event.attributes),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * Wraps the exporter every span leaves through, so the allow-list holds for spans Leasehold did not
 * start itself too (a library's, an attribute set after the span started): the last door, not the only one.
 */
export function allowListExporter(inner: SpanExporter): SpanExporter {
  return {
    export: (spans: ReadableSpan[], done: (result: ExportResult) => void) =>
      inner.export(spans.map(allowListed), done),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
