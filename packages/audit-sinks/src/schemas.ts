/*
 * The sinks' settings schemas only, with no adapter behind them: packages/config composes
 * leasehold.yaml's `auditSinks` from these (`@leasehold/audit-sinks/schemas`).
 */
export * from "./file/file-sink-schema.js";
export * from "./sink-settings.js";
export * from "./syslog/syslog-sink-schema.js";
export * from "./webhook/webhook-sink-schema.js";
