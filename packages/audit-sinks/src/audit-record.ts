import type { AuditEvent, JsonValue } from "@leasehold/domain";
import type { RecordFormat } from "./sink-settings.js";

/** An audit event as the API's `audit.list` renders it: every field, `at` as an ISO 8601 string. */
export type JsonAuditRecord = Omit<AuditEvent, "at"> & { readonly at: string };

export const jsonRecord = (event: AuditEvent): JsonAuditRecord => ({ ...event, at: event.at.toISOString() });

/**
 * A small OCSF (Open Cybersecurity Schema Framework, 1.3) shaped mapping, for SIEMs that ingest OCSF:
 * every event is an "API Activity" (class 6003, category 6 Application Activity) with activity
 * "Other" (99), since Leasehold's actions are not OCSF's create/read/update/delete:
 * - `time`: the event's time in epoch milliseconds; `severity_id` 1 (Informational); `status_id` 1.
 * - `metadata`: product Leasehold, `uid` and `sequence` = the event's `seq` (receivers drop repeats by it).
 * - `actor.user.uid`: who acted; `api.operation`: the action (`grant.issued`).
 * - `resources[0]`: the subject (`type` grant/request/…, `uid` its id).
 * - `unmapped`: what OCSF has no place for: the event's data, its hash and the previous hash (so the
 *   chain can still be checked from the SIEM's copy).
 */
export const ocsfRecord = (event: AuditEvent) => ({
  class_uid: 6003,
  class_name: "API Activity",
  category_uid: 6,
  category_name: "Application Activity",
  activity_id: 99,
  activity_name: event.action,
  type_uid: 600399,
  severity_id: 1,
  status_id: 1,
  time: event.at.getTime(),
  metadata: {
    version: "1.3.0",
    product: { name: "Leasehold", vendor_name: "Leasehold" },
    uid: String(event.seq),
    sequence: event.seq,
  },
  actor: { user: { uid: event.actor } },
  api: { operation: event.action },
  resources: [{ type: event.subjectType, uid: event.subjectId }],
  unmapped: { seq: event.seq, data: event.data as JsonValue, prev_hash: event.prevHash, hash: event.hash },
});

/** The record of one event in the format a sink was configured with; always carries `seq`. */
export const recordOf = (format: RecordFormat, event: AuditEvent): object =>
  format === "ocsf" ? ocsfRecord(event) : jsonRecord(event);
