import { describe, expect, it } from "vitest";
import { inBatches } from "./role-cleanup.js";

describe("inBatches", () => {
  it("slices in order, the last slice holding the rest", () => {
    expect(inBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(inBatches([], 3)).toEqual([]);
  });

  it("refuses a size that would never end", () => {
    expect(() => inBatches([1], 0)).toThrow(/positive integer/);
  });
});
