import { describe, expect, it } from "vitest";
import { CliError } from "../exit-codes.js";
import { preApprovalLine, preApprovalWindow } from "./pre-approval-commands.js";

const now = new Date("2026-12-06T12:00:00.000Z");

describe("the window of `leasehold preapprove`", () => {
  it("from now (or no --from) leaves the start to the server and ends --for later", () => {
    expect(preApprovalWindow("now", "8h", now)).toEqual({ endsAt: "2026-12-06T20:00:00.000Z" });
    expect(preApprovalWindow(undefined, "2d", now)).toEqual({ endsAt: "2026-12-08T12:00:00.000Z" });
  });

  it("from a time with a zone starts there and ends --for after it", () => {
    expect(preApprovalWindow("2026-12-24T22:00:00+01:00", "6h", now)).toEqual({
      startsAt: "2026-12-24T21:00:00.000Z",
      endsAt: "2026-12-25T03:00:00.000Z",
    });
  });

  it.each([
    ["no --for", "now", undefined, /--for/],
    ["a --for that is not a duration", "now", "all night", /--for takes a duration/],
    ["a --from that is not a time", "tonight", "6h", /--from takes "now" or a time/],
  ])("refuses %s as a usage error", (_what, from, forText, message) => {
    const attempt = () => preApprovalWindow(from, forText, now);
    expect(attempt).toThrow(CliError);
    expect(attempt).toThrow(message);
  });
});

describe("a listed window", () => {
  const window = {
    id: "p-1",
    targetId: "prod-readonly",
    principalId: "dev@example.com",
    approverId: "alice@example.com",
    startsAt: "2026-12-06T22:00:00.000Z",
    endsAt: "2026-12-07T04:00:00.000Z",
    revokedAt: null,
    reason: "maintenance night\nsecond line",
  };

  it.each([
    ["upcoming", now],
    ["active", new Date("2026-12-06T23:00:00Z")],
    ["ended", new Date("2026-12-07T04:00:00Z")],
  ])("is %s by its window", (state, at) => {
    expect(preApprovalLine(window, at)).toMatch(
      new RegExp(`^p-1  ${state} +dev@example.com on prod-readonly`),
    );
  });

  it("is revoked once revoked, and shows only the reason's first line", () => {
    const line = preApprovalLine({ ...window, revokedAt: "2026-12-06T23:00:00.000Z" }, now);
    expect(line).toMatch(/^p-1 {2}revoked /);
    expect(line).toMatch(/\(by alice@example.com\) maintenance night$/);
  });
});
