import { describe, expect, it } from "vitest";
import { cpuMsBetween, parseProcStatCpuMs } from "./process-cpu.js";

describe("process CPU", () => {
  it("reads utime + stime from a /proc stat line, even with spaces in the command name", () => {
    const stat = "4242 (node (api) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 11 0 900 0 0";
    expect(parseProcStatCpuMs(stat)).toBe((150 + 25) * 10);
  });

  it("counts the time between readings, all of it for a process that started in between", () => {
    const before = new Map([
      [1, 100],
      [2, 50],
    ]);
    const after = new Map([
      [1, 130],
      [3, 20],
    ]);
    expect(cpuMsBetween(before, after)).toBe(30 + 20);
  });
});
