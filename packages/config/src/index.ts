export * from "./config-error.js";
export * from "./env.js";
export * from "./leasehold-config.js";
export * from "./load-config.js";
export * from "./master-key.js";
export * from "./queue-backend.js";
export * from "./rotation-config.js";
export * from "./target-config.js";
