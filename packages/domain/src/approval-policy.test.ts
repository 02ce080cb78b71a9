import { describe, expect, it } from "vitest";
import type { Review } from "./access-request.js";
import { resolveDuration, resolveExtension, resolveTicket, tallyReviews } from "./approval-policy.js";
import { InvalidRequestError } from "./errors.js";
import type { Target } from "./target.js";
import { sessionTargetSchema } from "./test-target-kinds.js";

const target: Target = sessionTargetSchema.parse({
  id: "prod-readonly",
  kind: "session",
  requesters: { groups: ["engineering"] },
  approvers: { users: ["alice@example.com"], groups: ["sre"] },
  requiredApprovals: 2,
  maxDuration: "2h",
  defaultDuration: "30m",
  ticket: { pattern: "[A-Z]+-[0-9]+" },
  session: { role: "prod-readonly" },
});

const review = (reviewerId: string, decision: Review["decision"] = "approve"): Review => ({
  requestId: "r",
  reviewerId,
  decision,
  comment: null,
  createdAt: new Date(0),
});

describe("tallying reviews", () => {
  it("counts distinct approvers, never the requester", () => {
    const tally = tallyReviews([review("bob"), review("bob"), review("dev")], "dev", 2);
    expect(tally).toMatchObject({ approvers: ["bob"], needed: 1, outcome: "pending" });
  });

  it("approves once enough distinct approvers agreed", () => {
    expect(tallyReviews([review("bob"), review("carol")], "dev", 2).outcome).toBe("approved");
  });

  it("one denial decides", () => {
    expect(tallyReviews([review("bob"), review("carol", "deny")], "dev", 2)).toMatchObject({
      outcome: "denied",
      deniedBy: "carol",
    });
  });
});

describe("durations and tickets", () => {
  it("uses the target default when none is asked for", () => {
    expect(resolveDuration(target, undefined)).toBe(1800);
  });

  it.each([0, -60, 899, 7201, 10 ** 9, 1.5])("refuses %s seconds", (seconds) => {
    expect(() => resolveDuration(target, seconds)).toThrow(InvalidRequestError);
  });

  it("accepts the maximum exactly", () => {
    expect(resolveDuration(target, 7200)).toBe(7200);
  });

  it("checks the ticket against the whole pattern", () => {
    expect(resolveTicket(target, "OPS-42")).toBe("OPS-42");
    expect(() => resolveTicket(target, "see OPS-42")).toThrow(/format/);
    expect(resolveTicket(target, undefined)).toBeNull();
  });

  it("requires a ticket when the target says so", () => {
    const strict = { ...target, ticket: { required: true, pattern: undefined } };
    expect(() => resolveTicket(strict, undefined)).toThrow(/requires a ticket/);
  });
});

describe("extensions", () => {
  const issuedAt = new Date("2026-11-23T10:00:00Z");
  const grant = { issuedAt, expiresAt: new Date("2026-11-23T10:30:00Z"), durationSeconds: 1800 };

  it("moves the deadline by the asked time when the whole lifetime stays within the maximum", () => {
    const now = new Date("2026-11-23T10:20:00Z");
    expect(resolveExtension(target, grant, 1800, now)).toEqual({
      deadline: new Date("2026-11-23T11:00:00Z"),
      credentialSeconds: 2400,
    });
  });

  it("never ends the new credential after the deadline asked for, on a millisecond clock", () => {
    // Credentials last whole seconds; the clock has milliseconds. Rounding up would end the new
    // credential up to a second past the planned deadline, and past the maximum when extended to it.
    const now = new Date("2026-11-23T10:20:00.250Z");
    const { deadline, credentialSeconds } = resolveExtension(target, grant, 1800, now);
    expect(credentialSeconds).toBe(2399);
    expect(deadline.getTime()).toBeLessThanOrEqual(new Date("2026-11-23T11:00:00Z").getTime());
    const toMax = resolveExtension(target, grant, 5400, now);
    expect(toMax.deadline.getTime() - issuedAt.getTime()).toBeLessThanOrEqual(7200 * 1000);
  });

  it("refuses to extend past the target's maximum and says how much is left", () => {
    const now = new Date("2026-11-23T10:20:00Z");
    expect(() => resolveExtension(target, grant, 6000, now)).toThrow(/at most 5400 more seconds/);
  });

  it("refuses a grant past its deadline", () => {
    expect(() => resolveExtension(target, grant, 600, new Date("2026-11-23T10:31:00Z"))).toThrow(
      /active grant/,
    );
  });
});
