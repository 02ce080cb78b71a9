export { UnrecoverableError } from "bullmq";
export * from "./grant-queues.js";
export * from "./postgres-queue-schema.js";
export * from "./queue-connection.js";
export * from "./queue-deadline.js";
export * from "./queue-registry.js";
export * from "./queue-worker.js";
export * from "./redis-connection.js";
