import { describe, expect, it } from "vitest";
import { closedLoop, fastest, ratePerSecond } from "./closed-loop.js";

describe("closed loop", () => {
  it("counts successes and failures without stopping at a failure", async () => {
    let calls = 0;
    const result = await closedLoop(10, 3, async () => {
      calls += 1;
      if (calls % 4 === 0) throw new Error(`refused ${calls}`);
    });
    expect(calls).toBe(10);
    expect(result.succeeded).toBe(8);
    expect(result.failed).toBe(2);
    expect(result.firstError).toBe("refused 4");
    expect(result.latenciesMs).toHaveLength(8);
  });

  it("keeps at most `concurrency` calls in flight", async () => {
    let inFlight = 0;
    let most = 0;
    await closedLoop(12, 4, async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight -= 1;
    });
    expect(most).toBe(4);
  });

  it("rates successes per second of wall time", () => {
    expect(ratePerSecond({ succeeded: 50, wallMs: 2000 })).toBe(25);
    expect(ratePerSecond({ succeeded: 5, wallMs: 0 })).toBe(0);
  });

  it("picks the fastest round", () => {
    expect(fastest([3, 9, 4], (r) => r)).toBe(9);
    expect(() => fastest([], (r: number) => r)).toThrow(/no rounds/);
  });
});
