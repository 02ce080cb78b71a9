import { describe, expect, it } from "vitest";
import { readAuditEvent } from "./audit-data.js";
import { InvalidRequestError } from "./errors.js";
import {
  createPreApprovalInput,
  listPreApprovalsInput,
  type PreApproval,
  preApprovalCovers,
  resolvePreApprovalWindow,
} from "./pre-approval.js";

const now = new Date("2026-12-06T12:00:00.000Z");
const hours = (n: number) => new Date(now.getTime() + n * 3_600_000);
const days = (n: number) => hours(24 * n);

const valid = {
  principalId: "Dev@Example.com",
  targetId: "prod-readonly",
  startsAt: "2026-12-06T22:00:00Z",
  endsAt: "2026-12-07T04:00:00+01:00",
  reason: "maintenance night, CHG-12",
};

const firstMessage = (input: unknown) => {
  const result = createPreApprovalInput.safeParse(input);
  return result.success ? undefined : result.error.issues[0]?.message;
};

describe("the pre-approval input", () => {
  it("parses times with their zone and the principal id in its canonical form", () => {
    const parsed = createPreApprovalInput.parse(valid);
    expect(parsed).toEqual({
      principalId: "dev@example.com",
      targetId: "prod-readonly",
      startsAt: new Date("2026-12-06T22:00:00Z"),
      endsAt: new Date("2026-12-07T03:00:00Z"),
      reason: "maintenance night, CHG-12",
    });
  });

  it("leaves the start out when none is given (it becomes now)", () => {
    const { startsAt: _, ...rest } = valid;
    expect(createPreApprovalInput.parse(rest).startsAt).toBeUndefined();
  });

  it.each([
    ["a window that ends before it starts", { endsAt: "2026-12-06T21:00:00Z" }, /end after it starts/],
    ["a window that ends as it starts", { endsAt: valid.startsAt }, /end after it starts/],
    ["a window over 7 days", { endsAt: "2026-12-13T22:00:01Z" }, /at most 7 days/],
    ["a time without a zone", { startsAt: "2026-12-06T22:00:00" }, /ISO 8601 time with a zone/],
    ["a date that is not a time", { endsAt: "tomorrow" }, /ISO 8601/],
    ["a look-alike principal", { principalId: "dev@exam\u212Aple.com" }, /NFKC/],
    ["a workload", { principalId: "k8s:orders-api" }, /only a person/],
    ["a target id in capitals", { targetId: "Prod" }, /lower-case/],
    ["a reason too short", { reason: "ok" }, /at least 3/],
    ["a reason too long", { reason: "x".repeat(501) }, /at most 500/],
    ["a reason with a bidi override", { reason: "fine\u202Eenil" }, /bidirectional/],
    ["an unknown field", { durationSeconds: 60 }, /Unrecognized key/],
  ])("refuses %s", (_what, change, message) => {
    expect(firstMessage({ ...valid, ...change })).toMatch(message);
  });

  it("accepts a window of exactly 7 days", () => {
    expect(firstMessage({ ...valid, endsAt: "2026-12-13T22:00:00Z" })).toBeUndefined();
  });

  it("bounds a listing's page", () => {
    expect(listPreApprovalsInput.parse({})).toEqual({ current: false, limit: 50 });
    expect(listPreApprovalsInput.safeParse({ limit: 201 }).success).toBe(false);
  });
});

describe("placing the window relative to now", () => {
  it("keeps a window that starts later and ends within 7 days of its start", () => {
    expect(resolvePreApprovalWindow({ startsAt: hours(10), endsAt: hours(16) }, now)).toEqual({
      startsAt: hours(10),
      endsAt: hours(16),
    });
  });

  it("starts a window with no start, or a start in the past, now", () => {
    expect(resolvePreApprovalWindow({ endsAt: hours(8) }, now).startsAt).toEqual(now);
    expect(resolvePreApprovalWindow({ startsAt: hours(-3), endsAt: hours(8) }, now).startsAt).toEqual(now);
  });

  it.each([
    ["has already ended", { startsAt: hours(-5), endsAt: hours(-1) }, /already ended/],
    ["ends now", { endsAt: now }, /already ended/],
    ["starts more than 30 days ahead", { startsAt: hours(30 * 24 + 1), endsAt: days(31) }, /30 days/],
    ["runs over 7 days from now", { endsAt: hours(7 * 24 + 1) }, /at most 7 days/],
  ])("refuses a window that %s", (_what, window, message) => {
    expect(() => resolvePreApprovalWindow(window, now)).toThrow(InvalidRequestError);
    expect(() => resolvePreApprovalWindow(window, now)).toThrow(message);
  });

  it("accepts a window starting exactly 30 days ahead", () => {
    expect(resolvePreApprovalWindow({ startsAt: days(30), endsAt: days(31) }, now).startsAt).toEqual(
      days(30),
    );
  });
});

describe("what a window covers", () => {
  const window: PreApproval = {
    id: "p",
    targetId: "prod-readonly",
    principalId: "dev@example.com",
    approverId: "alice@example.com",
    reason: "maintenance",
    startsAt: hours(1),
    endsAt: hours(3),
    createdAt: now,
    revokedAt: null,
    revokedBy: null,
  };

  it("covers its start, not its end", () => {
    expect(preApprovalCovers(window, hours(0.99))).toBe(false);
    expect(preApprovalCovers(window, hours(1))).toBe(true);
    expect(preApprovalCovers(window, hours(2.99))).toBe(true);
    expect(preApprovalCovers(window, hours(3))).toBe(false);
  });

  it("covers nothing from its revocation on", () => {
    const revoked = { ...window, revokedAt: hours(2), revokedBy: "alice@example.com" };
    expect(preApprovalCovers(revoked, hours(1.5))).toBe(true);
    expect(preApprovalCovers(revoked, hours(2))).toBe(false);
  });
});

describe("the audit data of pre-approvals", () => {
  it("reads a created event back with its window, under the preapproval subject type", () => {
    const data = {
      targetId: "prod-readonly",
      principalId: "dev@example.com",
      startsAt: hours(1).toISOString(),
      endsAt: hours(3).toISOString(),
      reason: "maintenance",
      policies: ["target/prod-readonly/approvers"],
    };
    const stored = {
      seq: 1,
      at: now,
      actor: "alice@example.com",
      action: "preapproval.created" as const,
      subjectId: "p",
      data,
    };
    // Written before step-up, it says nothing of how the approver signed in: read back as null.
    expect(readAuditEvent({ ...stored, subjectType: "preapproval" })?.data).toEqual({
      ...data,
      authentication: null,
    });
    expect(readAuditEvent({ ...stored, subjectType: "request" })).toBeUndefined();
  });
});
