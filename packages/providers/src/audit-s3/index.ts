export type { S3AuditConnection } from "./s3-audit-client.js";
export * from "./s3-audit-reader.js";
export * from "./s3-audit-schema.js";
export * from "./s3-audit-sink.js";
