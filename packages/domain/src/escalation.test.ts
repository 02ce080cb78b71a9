import { describe, expect, it } from "vitest";
import { firstEscalationAt, nextEscalation } from "./escalation.js";
import type { Target } from "./target.js";
import { sessionTargetSchema } from "./test-target-kinds.js";

const base = {
  id: "prod-admin",
  kind: "session",
  requesters: { groups: ["engineering"] },
  approvers: { users: ["alice@example.com"] },
  maxDuration: "1h",
  pendingTtl: "2h",
  session: { role: "prod-admin" },
};

const target: Target = sessionTargetSchema.parse({
  ...base,
  escalateAfter: "30m",
  escalation: [
    { approvers: { groups: ["sre-leads"] }, slackChannel: "C0LEADS" },
    { approvers: { users: ["cto@example.com"] } },
  ],
});

const at = (minutes: number) => new Date(Date.UTC(2026, 11, 6, 9, minutes));

describe("escalation settings", () => {
  const issues = (extra: Record<string, unknown>) => {
    const parsed = sessionTargetSchema.safeParse({ ...base, ...extra });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("accepts levels with escalateAfter shorter than pendingTtl, in seconds", () => {
    expect(target.escalateAfterSeconds).toBe(1800);
    expect(target.escalation.map((l) => l.slackChannel)).toEqual(["C0LEADS", undefined]);
  });

  it("a target without escalation has no levels", () => {
    const plain = sessionTargetSchema.parse(base);
    expect(plain.escalation).toEqual([]);
    expect(plain.escalateAfterSeconds).toBeUndefined();
  });

  it("refuses escalateAfter not shorter than pendingTtl", () => {
    expect(
      issues({ escalateAfter: "2h", escalation: [{ approvers: { users: ["b@example.com"] } }] }),
    ).toEqual([expect.stringMatching(/^escalateAfter: .*shorter than pendingTtl/)]);
  });

  it("refuses an empty level, levels without escalateAfter and escalateAfter without levels", () => {
    expect(issues({ escalateAfter: "10m", escalation: [{ approvers: {} }] })).toEqual([
      expect.stringMatching(/^escalation\.0\.approvers: .*at least one approver/),
    ]);
    expect(issues({ escalation: [{ approvers: { users: ["b@example.com"] } }] })).toEqual([
      expect.stringMatching(/^escalateAfter: escalation needs escalateAfter/),
    ]);
    expect(issues({ escalateAfter: "10m" })).toEqual([expect.stringMatching(/^escalation: /)]);
  });

  it("refuses more than five levels and a channel name instead of an id", () => {
    const level = { approvers: { users: ["b@example.com"] } };
    expect(issues({ escalateAfter: "10m", escalation: Array(6).fill(level) })).toHaveLength(1);
    expect(issues({ escalateAfter: "10m", escalation: [{ ...level, slackChannel: "#leads" }] })).toEqual([
      expect.stringMatching(/^escalation\.0\.slackChannel: must be a Slack channel id/),
    ]);
  });
});

describe("when a request escalates", () => {
  it("first after escalateAfter, unless the request expires first", () => {
    expect(firstEscalationAt(target, at(0), at(120))).toEqual(at(30));
    expect(firstEscalationAt(target, at(0), at(30))).toBeNull();
    expect(firstEscalationAt(sessionTargetSchema.parse(base), at(0), at(120))).toBeNull();
  });

  it("one level per step, each with a full escalateAfter, and none past the last level", () => {
    expect(nextEscalation(target, 0, at(31), at(120))).toEqual({ toLevel: 1, nextAt: at(61) });
    expect(nextEscalation(target, 1, at(61), at(120))).toEqual({ toLevel: 2, nextAt: null });
    expect(nextEscalation(target, 2, at(91), at(120))).toBeUndefined();
  });

  it("never schedules a step at or after the request expires", () => {
    expect(nextEscalation(target, 0, at(90), at(120))).toEqual({ toLevel: 1, nextAt: null });
  });
});
