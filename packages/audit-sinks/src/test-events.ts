import type { AuditEvent } from "@leasehold/domain";

/** Consecutive audit events `from`..`from + count - 1`, shaped like the trail's (hashes are placeholders). */
export function auditEvents(
  from: number,
  count: number,
  at = new Date("2026-12-06T01:00:00.000Z"),
): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      at: new Date(at.getTime() + seq * 1000),
      actor: "alice@example.com",
      action: "grant.issued",
      subjectType: "grant",
      subjectId: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
      data: { target: "prod-admin", note: `event ${seq} with "quotes" and ] brackets` },
      prevHash: (seq - 1).toString(16).padStart(64, "0"),
      hash: seq.toString(16).padStart(64, "0"),
    };
  });
}
