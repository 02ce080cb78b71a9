export * from "./audit-record.js";
export * from "./create-sink.js";
export * from "./file/file-sink.js";
export * from "./schemas.js";
export * from "./syslog/syslog-format.js";
export * from "./syslog/syslog-sink.js";
export * from "./webhook/webhook-body.js";
export * from "./webhook/webhook-sink.js";
