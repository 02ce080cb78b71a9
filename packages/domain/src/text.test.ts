import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";
import { reasonSchema, ticketSchema } from "./schemas.js";

describe("reasons", () => {
  it("keeps ordinary text, trimmed, and allows line breaks", () => {
    expect(reasonSchema.parse("  investigate INC-7\nsee runbook ")).toBe("investigate INC-7\nsee runbook");
  });

  it.each([
    ["", /at least/],
    ["ok", /at least 3/],
    ["x".repeat(1001), /at most 1000/],
    ["drop\u0000table", /control characters/],
    ["bell\u0007", /control characters/],
    ["admin\u202Egnp.exe", /bidirectional/],
  ])("refuses %j", (text, message) => {
    const result = reasonSchema.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });
});

describe("tickets", () => {
  it("refuses characters an STS session tag cannot carry", () => {
    expect(ticketSchema.safeParse("OPS-1;rm").success).toBe(false);
    expect(ticketSchema.safeParse("OPS-1 <b>").success).toBe(false);
    expect(ticketSchema.parse("OPS-1")).toBe("OPS-1");
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90],
    ["15m", 900],
    ["1h30m", 5400],
    ["2d", 172_800],
  ])("parses %s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(parseDuration(formatDuration(seconds))).toBe(seconds);
  });

  it.each(["", "1x", "h", "-5m", "1.5h", "1h 30m"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
