export * from "./open-broker.js";
export * from "./process.js";
