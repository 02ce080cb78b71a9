import { describe, expect, it } from "vitest";
import { percentile, runConcurrently, summarize } from "./stats.js";

describe("percentile", () => {
  it("is the nearest-rank value, an observed sample", () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
  });
  it("p99 of 1..1000 is 990", () => {
    expect(
      percentile(
        Array.from({ length: 1000 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(990);
  });
  it("refuses empty samples and a p outside 0..100", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 101)).toThrow(/out of range/);
    expect(() => percentile([1], Number.NaN)).toThrow(/out of range/);
  });
});

describe("summarize", () => {
  it("reports count, p50, p99, max and mean", () => {
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3, mean: 2 });
  });
});

describe("runConcurrently", () => {
  it("runs every index once with at most the given concurrency", async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await runConcurrently(20, 3, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(i);
      inFlight--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
  });
});
