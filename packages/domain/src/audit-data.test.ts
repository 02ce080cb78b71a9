import { describe, expect, it } from "vitest";
import type { AuditEvent } from "./audit.js";
import { readAuditEvent } from "./audit-data.js";

const stored = (action: AuditEvent["action"], data: AuditEvent["data"]): AuditEvent => ({
  seq: 7,
  at: new Date("2026-12-05T00:00:00Z"),
  actor: "system:worker",
  action,
  subjectType: action.startsWith("rotation") ? "rotation" : "grant",
  subjectId: "r-1",
  data,
  prevHash: "0".repeat(64),
  hash: "1".repeat(64),
});

describe("audit data per action", () => {
  it("a rotation failure reads back with its fields typed", () => {
    const event = readAuditEvent(
      stored("rotation.failed", { rotation: "orders", step: "test", error: "no login", rolledBack: true }),
    );
    if (event?.action !== "rotation.failed") throw new Error("expected a rotation.failed event");
    expect(event.data).toEqual({ rotation: "orders", step: "test", error: "no login", rolledBack: true });
  });

  it("an event whose data does not fit its action is reported, not guessed at", () => {
    expect(readAuditEvent(stored("grant.issue_failed", { error: 42 }))).toBeUndefined();
    expect(readAuditEvent(stored("grant.revocation_failed", { error: "x" }))).toBeUndefined();
  });

  it("an event filed under another subject type than its action names is not read as typed", () => {
    const misfiled = { ...stored("grant.revoked", {}), subjectType: "request" as const };
    expect(readAuditEvent(misfiled)).toBeUndefined();
  });

  it("fields a newer writer added are dropped rather than refused", () => {
    const event = readAuditEvent(stored("grant.revoked", { note: "extra" }));
    expect(event?.data).toEqual({});
  });
});
