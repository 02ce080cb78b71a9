export * from "./allow-list-exporter.js";
export * from "./span-attributes.js";
export * from "./spans.js";
export * from "./start-tracing.js";
export * from "./trace-context.js";
