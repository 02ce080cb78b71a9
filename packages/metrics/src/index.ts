export * from "./health-snapshot.js";
export * from "./metric-catalog.js";
export * from "./metrics-listener.js";
export * from "./metrics-token.js";
export * from "./prometheus-metrics.js";
