import type { Grant } from "@leasehold/domain";
import { UpstreamError } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import {
  CUTOFF_SETTLE_SECONDS,
  planRoleDenials,
  policySize,
  RESERVED_FOR_PEOPLE,
  ROLE_INLINE_POLICY_BUDGET,
} from "./role-denials.js";

const ROLE = "arn:aws:iam::123456789012:role/Deploy";
const NOW = new Date("2026-12-05T12:00:00Z");
const LONG_AGO = new Date("2026-12-05T11:00:00Z");
const id = (n: number) => `6f1c0000-0000-4000-8000-${String(n).padStart(12, "0")}`;

const grant = (n: number, overrides: Partial<Grant> = {}): Grant => ({
  id: id(n),
  requestId: id(100_000 + n),
  targetId: "deploy",
  principalId: `person-${n}@example.com`,
  state: "revoked",
  durationSeconds: 3600,
  createdAt: LONG_AGO,
  issuedAt: LONG_AGO,
  expiresAt: new Date("2026-12-05T13:00:00Z"),
  endedAt: LONG_AGO,
  providerRef: null,
  issueAttempts: 1,
  lastError: null,
  ...overrides,
});
const people = (count: number, from = 0) => Array.from({ length: count }, (_, i) => grant(from + i));
const workload = (count: number, from = 0, overrides: Partial<Grant> = {}) =>
  Array.from({ length: count }, (_, i) =>
    grant(from + i, { requestId: null, principalId: "ci:repo/app", ...overrides }),
  );
const plan = (grants: Grant[], budget = ROLE_INLINE_POLICY_BUDGET) =>
  planRoleDenials({ roleArn: ROLE, grants, budget, now: NOW });

/** The most revocations that still fit one by one, found by adding one at a time. */
const mostListed = (make: (count: number) => Grant[]) => {
  let count = 0;
  while (plan(make(count + 1)).cutoff === null) count += 1;
  return count;
};

describe("a role's denials", () => {
  it("nothing revoked: no policy at all", () => {
    expect(plan([grant(1, { state: "active" })])).toEqual({ document: null, cutoff: null, ended: [] });
  });

  it("lists each revocation, about 40 characters each plus each holder once", () => {
    const one = plan(people(1));
    const two = plan([...people(1), grant(2, { principalId: "person-0@example.com" })]);
    expect(policySize(two.document ?? "") - policySize(one.document ?? "")).toBe(39);
    expect(JSON.parse(one.document ?? "").Statement).toHaveLength(1);
  });

  it("measured: one role holds 158 revocations of different people, 204 of one workload's leases before the people's reserve", () => {
    // README "How revocation behaves under budget pressure" quotes these figures.
    expect(mostListed((count) => people(count))).toBe(158);
    expect(mostListed((count) => workload(count))).toBe(204);
  });

  it("workload leases cannot take the room reserved for people's revocations", () => {
    const leases = workload(200);
    const listed = plan(leases);
    expect(listed.cutoff).toBeNull();
    const leaseSize = policySize(listed.document ?? "");
    expect(leaseSize).toBeLessThanOrEqual(ROLE_INLINE_POLICY_BUDGET - RESERVED_FOR_PEOPLE);
    // People's revocations still fit one by one beside them, into the reserve.
    const withPeople = plan([...leases, ...people(20, 1000)]);
    expect(withPeople.cutoff).toBeNull();
    expect(policySize(withPeople.document ?? "")).toBeGreaterThan(
      ROLE_INLINE_POLICY_BUDGET - RESERVED_FOR_PEOPLE,
    );
    // More leases than their share: the cut-off takes over rather than the reserve.
    expect(plan(workload(205)).cutoff).not.toBeNull();
  });

  it("a cut-off covers revocations older than the settling time and keeps every live grant", () => {
    const recentAt = new Date(NOW.getTime() - (CUTOFF_SETTLE_SECONDS - 10) * 1000);
    const grants = [
      ...workload(1000),
      grant(5000, { state: "revoked", endedAt: recentAt }),
      grant(5001, { state: "revoking", endedAt: null }),
      grant(5002, { state: "revocation_failed", endedAt: null }),
      grant(6000, { state: "active" }),
      grant(6001, { state: "issuing" }),
    ];
    const result = plan(grants);
    expect(result.cutoff).toEqual({
      at: new Date(NOW.getTime() - CUTOFF_SETTLE_SECONDS * 1000),
      revocations: 1003,
      kept: 2,
    });
    expect(result.ended).toEqual([]);
    const [cutoff, listed] = JSON.parse(result.document ?? "").Statement;
    expect(cutoff.Condition).toEqual({
      DateLessThan: { "aws:TokenIssueTime": "2026-12-05T11:58:00Z" },
      StringNotEquals: { "aws:PrincipalTag/lh-grant": [id(6001), id(6000)] },
    });
    expect(listed.Condition.StringEqualsIfExists["aws:PrincipalTag/lh-grant"]).toEqual([
      id(5000),
      id(5001),
      id(5002),
    ]);
  });

  it("live grants beyond the budget are ended: workload leases before people's, newest first", () => {
    const live = [
      ...people(40, 10_000).map((g) => ({ ...g, state: "active" as const })),
      ...workload(400, 20_000, { state: "active" }),
    ];
    const result = plan([...workload(300), ...live]);
    // Measured: the live grants one role keeps beside a cut-off (README quotes it).
    expect(result.cutoff?.kept).toBe(257);
    expect(policySize(result.document ?? "")).toBeLessThanOrEqual(ROLE_INLINE_POLICY_BUDGET);
    const kept = live.length - result.ended.length;
    expect(result.cutoff?.kept).toBe(kept);
    // Every person's grant is kept; the newest leases went.
    expect(result.ended).toEqual(live.slice(kept).map((g) => g.id));
    expect(result.ended.every((grantId) => live.find((g) => g.id === grantId)?.requestId === null)).toBe(
      true,
    );
  });

  it("revocations too recent for a cut-off that do not fit fail retryably, naming the role", () => {
    const recent = workload(400, 0, { endedAt: NOW });
    expect(() => plan(recent)).toThrow(UpstreamError);
    expect(() => plan(recent)).toThrow(
      expect.objectContaining({ retryable: true, message: expect.stringContaining(ROLE) }),
    );
  });
});
