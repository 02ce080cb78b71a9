import { describe, expect, it } from "vitest";
import { formatNumber, renderTable } from "./report.js";

describe("renderTable", () => {
  it("shows figures beside baselines and the target verdict", () => {
    const table = renderTable([
      {
        id: "P9",
        title: "example",
        figures: [{ name: "rate", value: 1234.5, unit: "ops/s" }],
        baselines: [{ name: "raw rate", value: 2000, unit: "ops/s" }],
        target: { description: "≥ 50 % of raw", met: true },
        notes: ["concurrency 4"],
      },
    ]);
    expect(table).toContain("P9 example");
    expect(table).toMatch(/rate\s+1,235 ops\/s/);
    expect(table).toMatch(/baseline: raw rate\s+2,000 ops\/s/);
    expect(table).toMatch(/target: ≥ 50 % of raw\s+MET/);
    expect(table).toContain("note: concurrency 4");
  });
  it("formats small numbers with decimals and integers with separators", () => {
    expect(formatNumber(1.234)).toBe("1.23");
    expect(formatNumber(12.34)).toBe("12.3");
    expect(formatNumber(100000)).toBe("100,000");
  });
});
