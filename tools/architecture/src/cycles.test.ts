import { describe, expect, it } from "vitest";
import { cyclesOf } from "./cycles.js";

describe("cyclesOf", () => {
  it("finds no circle in a tree or a diamond", () => {
    const graph = new Map([
      ["a", ["b", "c"]],
      ["b", ["d"]],
      ["c", ["d"]],
      ["d", []],
    ]);
    expect(cyclesOf(graph)).toEqual([]);
  });

  it("finds each circle once, with its members, and a file importing itself", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", ["e"]],
      ["e", ["d"]],
      ["f", ["f"]],
    ]);
    expect(cyclesOf(graph).sort()).toEqual([["a", "b", "c"], ["d", "e"], ["f"]]);
  });
});
