import { describe, expect, it } from "vitest";
import { auditCheckpointSchema, checkpointDue, checkpointMessage } from "./audit-checkpoint.js";
import { readAuditEvent } from "./audit-data.js";

const schedule = { everyEvents: 10, everySeconds: 300 };
const t0 = new Date("2026-12-06T01:00:00.000Z");
const after = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const checkpoint = {
  seq: 42,
  hash: "ab".repeat(32),
  at: "2026-12-06T01:00:00.000Z",
  keyId: "0123456789abcdef",
  signature: `${"A".repeat(86)}==`,
};

describe("audit checkpoints", () => {
  it("signs a versioned, line-separated text", () => {
    expect(checkpointMessage(checkpoint)).toBe(
      `leasehold-checkpoint-v1\n42\n${"ab".repeat(32)}\n2026-12-06T01:00:00.000Z`,
    );
  });

  it("is due every N events or T seconds, whichever first, and never while the trail stands still", () => {
    expect(checkpointDue(schedule, 0, undefined, t0)).toBe(false);
    expect(checkpointDue(schedule, 1, undefined, t0)).toBe(true);
    const last = { seq: 20, at: t0 };
    expect(checkpointDue(schedule, 20, last, after(3600))).toBe(false);
    expect(checkpointDue(schedule, 29, last, after(299))).toBe(false);
    expect(checkpointDue(schedule, 30, last, after(1))).toBe(true);
    expect(checkpointDue(schedule, 21, last, after(300))).toBe(true);
  });

  it("reads a checkpoint event's data, and refuses one with a field out of shape", () => {
    const event = {
      seq: 43,
      at: t0,
      actor: "system:checkpoint",
      action: "audit.checkpoint" as const,
      subjectType: "audit" as const,
      subjectId: "42",
    };
    expect(readAuditEvent({ ...event, data: checkpoint })?.data).toEqual(checkpoint);
    for (const bad of [
      { seq: 0 },
      { hash: "AB".repeat(32) },
      { at: "yesterday" },
      { keyId: "xyz" },
      { signature: "c2ln" },
    ]) {
      expect(auditCheckpointSchema.safeParse({ ...checkpoint, ...bad }).success).toBe(false);
      expect(readAuditEvent({ ...event, data: { ...checkpoint, ...bad } })).toBeUndefined();
    }
  });
});
