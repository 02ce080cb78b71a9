/**
 * The end-to-end test kit, for other workspace packages (the benchmarks): the real API and worker as
 * processes, test identities, and private Redis and PostgreSQL servers that may be killed and flushed.
 */
export { PEOPLE, type Person, ROLE_ARN, TEST_CONFIG, tokenFor } from "./people.js";
export { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";
export { type PrivateRedis, startPrivateRedis } from "./private-redis.js";
export { createScratchDatabases, type ScratchDatabases } from "./scratch-databases.js";
export { eventually, type Stack, type StackOptions, startStack } from "./stack.js";
