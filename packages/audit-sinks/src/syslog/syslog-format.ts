import type { AuditEvent } from "@leasehold/domain";
import { recordOf } from "../audit-record.js";
import type { RecordFormat } from "../sink-settings.js";

export type SyslogFields = {
  readonly facility: number;
  readonly severity: number;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly sdId: string;
  readonly format: RecordFormat;
};

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A header field: printable ASCII only, at most `max` characters, `-` when nothing is left. */
const headerField = (value: string, max: number) => value.replace(/[^\x21-\x7e]/g, "").slice(0, max) || "-";

/** A PARAM-VALUE: `"`, `\` and `]` escaped (RFC 5424 §6.3.3). */
const paramValue = (value: string) => value.replace(/["\\\]]/g, (c) => `\\${c}`);

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG`, where MSGID is
 * the action, the structured data names seq, action and subject (so a collector can drop repeats and
 * route without parsing the message), and MSG is the event's record as UTF-8 JSON.
 */
export function syslogMessage(event: AuditEvent, fields: SyslogFields): Buffer {
  const pri = fields.facility * 8 + fields.severity;
  const sd =
    `[${fields.sdId} seq="${event.seq}" action="${paramValue(event.action)}"` +
    ` subjectType="${paramValue(event.subjectType)}" subjectId="${paramValue(event.subjectId)}"]`;
  const header = [
    `<${pri}>1`,
    event.at.toISOString(),
    headerField(fields.hostname, 255),
    headerField(fields.appName, 48),
    headerField(fields.procId, 128),
    headerField(event.action, 32),
  ].join(" ");
  return Buffer.concat([
    Buffer.from(`${header} ${sd} `, "utf8"),
    BOM,
    Buffer.from(JSON.stringify(recordOf(fields.format, event)), "utf8"),
  ]);
}

/** Octet-counting framing (RFC 6587 §3.4.1, RFC 5425 §4.3): `MSG-LEN SP SYSLOG-MSG`. */
export const octetCounted = (message: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${message.length} `, "ascii"), message]);
