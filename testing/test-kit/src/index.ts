// Leasehold's test kit: scratch databases, the end-to-end stack of real processes, and shared fixtures;
// see README.md. Used by tests and tools only, never by a deployable.

export {
  adminDatabaseUrl,
  createPostgresDatabase,
  createTestDatabase,
  type Dialect,
  dialects,
} from "@leasehold/db/testing";
export {
  createScratchDatabases,
  type ScratchDatabases,
  tryAs,
} from "./database/scratch-databases.js";
export { createSqlScratch, type LeaseSession, type SqlScratch } from "./database/sql-scratch.js";
export { PEOPLE, type Person, ROLE_ARN, TEST_CONFIG, tokenFor } from "./fixtures/people.js";
export { type LocalMode, startLocalMode } from "./local/local-mode.js";
export {
  createScratchQueueStore,
  type QueueBackend,
  queueBackends,
  type ScratchQueueStore,
  testRedisUrl,
} from "./queue/scratch-queue-store.js";
export { freePort } from "./stack/free-port.js";
export { type PrivatePostgres, startPrivatePostgres } from "./stack/private-postgres.js";
export { type PrivateRedis, startPrivateRedis } from "./stack/private-redis.js";
export { eventually, type Stack, type StackOptions, startStack } from "./stack/stack.js";
