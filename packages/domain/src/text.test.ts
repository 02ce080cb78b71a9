import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";
import { reasonSchema, requestAccessInput, reviewInput, revokeGrantInput, ticketSchema } from "./schemas.js";
import { boundedText } from "./text.js";

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

/** Characters that hide text from the reader or are not text at all (a lone half of a UTF-16 pair). */
const INVISIBLE: [string, string][] = [
  ["a lone high surrogate", "\uD800"],
  ["a lone low surrogate", "\uDC00"],
  ["a zero-width space", "\u200B"],
  ["a zero-width non-joiner", "\u200C"],
  ["a zero-width joiner", "\u200D"],
  ["a word joiner", "\u2060"],
  ["a zero-width no-break space", "\uFEFF"],
  ["a line separator", "\u2028"],
  ["a paragraph separator", "\u2029"],
  ["the first tag character", "\u{E0000}"],
  ["a tag letter", "\u{E0041}"],
  ["the cancel tag", "\u{E007F}"],
];

describe("every bounded text field", () => {
  it.each(INVISIBLE)("refuses %s inside the text, naming the field", (_name, character) => {
    for (const multiline of [false, true]) {
      const schema = boundedText({ max: 100, multiline, label: "note" });
      const result = schema.safeParse(`a${character}b`);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/^note must not contain /);
    }
  });

  it.each(INVISIBLE)("refuses %s in each text field of the shared inputs", (_name, character) => {
    const text = `fix INC-1${character}now`;
    const inputs: [{ safeParse(value: unknown): { success: boolean; error?: unknown } }, unknown, string][] =
      [
        [requestAccessInput, { targetId: "prod", reason: text }, "reason"],
        [requestAccessInput, { targetId: "prod", reason: "fine", ticket: `OPS-1${character}2` }, "ticket"],
        [reviewInput, { requestId: crypto.randomUUID(), decision: "deny", comment: text }, "comment"],
        [revokeGrantInput, { grantId: crypto.randomUUID(), reason: text }, "reason"],
      ];
    for (const [schema, input, field] of inputs) {
      const result = schema.safeParse(input) as {
        success: boolean;
        error?: { issues: { path: PropertyKey[] }[] };
      };
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(field);
    }
  });

  it("keeps emoji, accents and CJK, but refuses a zero-width joiner even inside an emoji sequence", () => {
    const schema = boundedText({ max: 100, label: "note" });
    expect(schema.parse("deploy \u{1F680} \u00E9t\u00E9 \u4E2D\u6587")).toBe(
      "deploy \u{1F680} \u00E9t\u00E9 \u4E2D\u6587",
    );
    expect(schema.safeParse("family \u{1F468}\u200D\u{1F469}").success).toBe(false);
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
