import { z } from "zod";
import type { AuditEvent } from "./audit.js";

/** A sink's name in leasehold.yaml: its cursor is kept under it, so renaming a sink starts it over. */
export const auditSinkNameSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "a sink name is lower-case letters, digits and dashes");

/**
 * Where the audit trail is copied outside Leasehold's database: a JSON-lines file, a webhook (or Splunk
 * HEC), syslog, S3 with Object Lock. The worker hands each sink the events after its durable cursor, in
 * order, and moves the cursor only after `deliver` resolved; a sink that can see what it already holds
 * (a file's last line, an S3 key) drops repeats, so a crash between delivery and cursor never doubles
 * an event there. Adapters implement this; the use case that feeds them knows nothing of their kind.
 */
export interface AuditSink {
  /** Its name in leasehold.yaml; its cursor is kept under this name. */
  readonly name: string;
  /**
   * Delivers `events` (consecutive, ascending `seq`) and resolves once the sink has durably accepted
   * them. Throws an UpstreamError (retryable or not) when it could not; nothing is skipped.
   */
  deliver(events: readonly AuditEvent[]): Promise<void>;
  close?(): Promise<void>;
}
