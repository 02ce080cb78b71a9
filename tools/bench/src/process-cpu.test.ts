import { describe, expect, it } from "vitest";
import { cpuBetween, parseProcStatCpu } from "./process-cpu.js";

describe("process CPU", () => {
  it("reads utime + stime, and stime, from a /proc stat line, even with spaces in the command name", () => {
    const stat = "4242 (node (api) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 11 0 900 0 0";
    expect(parseProcStatCpu(stat)).toEqual({ ms: (150 + 25) * 10, kernelMs: 25 * 10 });
  });

  it("counts the time between readings, all of it for a process that started in between", () => {
    const before = new Map([
      [1, { ms: 100, kernelMs: 10 }],
      [2, { ms: 50, kernelMs: 5 }],
    ]);
    const after = new Map([
      [1, { ms: 130, kernelMs: 22 }],
      [3, { ms: 20, kernelMs: 4 }],
    ]);
    expect(cpuBetween(before, after)).toEqual({ ms: 30 + 20, kernelMs: 12 + 4 });
  });
});
