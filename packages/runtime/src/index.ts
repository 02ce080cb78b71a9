export * from "./audit-export-wiring.js";
export * from "./open-broker.js";
export * from "./open-from-env.js";
export * from "./process.js";
