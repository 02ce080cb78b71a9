import type { AuditSink } from "@leasehold/domain";
import { createFileSink } from "./file/file-sink.js";
import type { FileAuditSinkSettings } from "./file/file-sink-schema.js";
import type { SinkEnvironment } from "./sink-settings.js";
import { createSyslogSink } from "./syslog/syslog-sink.js";
import type { SyslogAuditSinkSettings } from "./syslog/syslog-sink-schema.js";
import { createWebhookSink } from "./webhook/webhook-sink.js";
import type { WebhookAuditSinkSettings } from "./webhook/webhook-sink-schema.js";

/** The kinds this package implements (S3 with Object Lock lives with the AWS adapters in providers). */
export type LocalAuditSinkSettings =
  | FileAuditSinkSettings
  | WebhookAuditSinkSettings
  | SyslogAuditSinkSettings;

/**
 * The sink one `auditSinks` entry describes, its secrets read from the variables it names. Throws
 * (a message saying what to set) when one is missing: the worker stops at start, not at the first event.
 */
export function createAuditSink(
  settings: LocalAuditSinkSettings,
  deps: { readonly env: SinkEnvironment; readonly clock: () => Date },
): AuditSink {
  switch (settings.kind) {
    case "file":
      return createFileSink(settings, deps);
    case "webhook":
      return createWebhookSink(settings, deps);
    case "syslog":
      return createSyslogSink(settings, deps);
  }
}
