/**
 * Where the queues live (LEASEHOLD_QUEUE_BACKEND). Every queue, delayed job and job scheduler is in
 * one store; BullMQ runs the same on both.
 */
export type QueueConnection = RedisQueueConnection | PostgresQueueConnection;

/** A Redis URL and the key prefix that separates installations (and tests) sharing one Redis. */
export type RedisQueueConnection = {
  readonly backend: "redis";
  readonly redisUrl: string;
  readonly prefix: string;
};

/**
 * A PostgreSQL database and the schema BullMQ's tables live in: Leasehold's own database, in a schema
 * of their own, so the queues never mix with Leasehold's tables and one database can hold several
 * installations (and tests), as a key prefix does on Redis.
 */
export type PostgresQueueConnection = {
  readonly backend: "postgres";
  readonly databaseUrl: string;
  readonly schema: string;
  /**
   * Set by prepareQueueSchema once the schema is current: BullMQ then only checks it. Unset, every
   * queue and worker runs BullMQ's migrations itself (under its advisory lock), which needs a role
   * that may create the schema.
   */
  readonly migrated?: boolean;
};

/**
 * The queue schema of an installation, from its LEASEHOLD_QUEUE_PREFIX: `leasehold` → `queue_leasehold`.
 * Prefixes are lower-case letters, digits and dashes, perhaps in braces (a Redis Cluster hash tag,
 * which means nothing here and is dropped); dashes become underscores (a prefix has no underscore, so
 * two prefixes never share a schema), and the `queue_` start keeps a prefix that begins with a digit a
 * valid schema name.
 */
export const queueSchemaFor = (prefix: string): string =>
  `queue_${prefix.replace(/^\{(.*)\}$/, "$1").replaceAll("-", "_")}`;

/** The store's name, for messages a person reads. */
export const storeName = (connection: QueueConnection): string =>
  connection.backend === "redis" ? "Redis" : "PostgreSQL";
