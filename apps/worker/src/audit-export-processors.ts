import type { AuditExportService } from "@leasehold/broker";
import { defineProcessor, type Processor } from "./job-harness.js";

/**
 * The audit export, every second: one job at a time per worker. Each sink's round runs under its own
 * database lock, so two workers' overlapping jobs deliver each event once; a failing sink is recorded
 * on its cursor and tried again next second, so the job itself never fails or retries.
 */
export function auditExportProcessors(auditExport: Pick<AuditExportService, "exportAll">): Processor[] {
  return [defineProcessor({ queue: "auditExport", concurrency: 1, run: () => auditExport.exportAll() })];
}
