export { UnrecoverableError } from "bullmq";
export * from "./grant-queues.js";
export * from "./queue-registry.js";
export * from "./queue-worker.js";
export * from "./redis-connection.js";
export * from "./redis-deadline.js";
