import {
  fileAuditSinkSchema,
  syslogAuditSinkSchema,
  webhookAuditSinkSchema,
} from "@leasehold/audit-sinks/schemas";
import { s3AuditSinkSchema } from "@leasehold/providers/schemas";
import { z } from "zod";

/**
 * One entry of leasehold.yaml's `auditSinks`: where the audit trail is copied outside the database.
 * Each kind's settings schema lives beside its adapter; this only puts them together by `kind`.
 */
export const auditSinkConfigSchema = z.discriminatedUnion("kind", [
  fileAuditSinkSchema,
  webhookAuditSinkSchema,
  syslogAuditSinkSchema,
  // S3 with Object Lock lives with the AWS adapters.
  s3AuditSinkSchema,
]);
export type AuditSinkConfig = z.output<typeof auditSinkConfigSchema>;
