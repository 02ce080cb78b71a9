import { describe, expect, it } from "vitest";
import { type AccessReportRow, accessReportCsv, accessReportInput, csvCell, toCsv } from "./access-report.js";

const row: AccessReportRow = {
  grantId: "g-1",
  requestId: "r-1",
  holder: "dev@example.com",
  targetId: "prod",
  kind: "request",
  requestedAt: "2026-12-01T10:00:00.000Z",
  approvedBy: ["alice@example.com", "bob@example.com"],
  ticket: "+OPS-1",
  reason: 'fix "orders", now\nplease',
  issuedAt: "2026-12-01T10:05:00.000Z",
  expiresAt: "2026-12-01T11:05:00.000Z",
  endedAt: null,
  ending: "active",
  revokedBy: null,
  breakGlassReview: null,
  credentialReads: { count: 2, times: ["2026-12-01T10:06:00.000Z", "2026-12-01T10:07:00.000Z"] },
};

describe("access report CSV", () => {
  it("quotes cells with commas, quotes and line breaks as RFC 4180 says", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
    expect(toCsv(["a", "b"], [["1", null]])).toBe("a,b\r\n1,\r\n");
  });

  it("neutralises cells a spreadsheet would run as a formula", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) {
      expect(csvCell(`${start}SUM(A1)`).replace(/^"/, "")).toMatch(/^'/);
    }
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-3)).toBe("-3");
  });

  it("writes one line per row under the header, user text quoted and neutralised", () => {
    const csv = accessReportCsv([row]);
    const [header, line] = csv.split("\r\n");
    expect(header?.split(",")).toHaveLength(18);
    expect(line).toBe(
      [
        "g-1,r-1,dev@example.com,prod,request,2026-12-01T10:00:00.000Z",
        "alice@example.com bob@example.com",
        "'+OPS-1",
        '"fix ""orders"", now\nplease"',
        "2026-12-01T10:05:00.000Z,2026-12-01T11:05:00.000Z,,active,,,,2",
        "2026-12-01T10:06:00.000Z 2026-12-01T10:07:00.000Z",
      ].join(","),
    );
  });
});

describe("access report input", () => {
  const parse = (input: Record<string, unknown>) => accessReportInput.safeParse(input);
  it("takes a range of up to 366 days and a bounded limit", () => {
    expect(parse({ from: "2026-01-01T00:00:00Z", to: "2027-01-02T00:00:00Z" }).success).toBe(true);
    expect(parse({ from: "2026-01-01T00:00:00Z", to: "2027-01-03T00:00:00Z" }).error?.message).toMatch(
      /at most 366 days/,
    );
    expect(parse({ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }).error?.message).toMatch(
      /must end after it starts/,
    );
    const range = { from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" };
    expect(parse({ ...range, limit: 10_001 }).success).toBe(false);
    expect(parse({ ...range, kind: "sideways" }).success).toBe(false);
    expect(parse({ ...range, from: "yesterday" }).success).toBe(false);
  });
});
