import { describe, expect, it } from "vitest";
import { parseProcStatus } from "./process-memory.js";

const STATUS = `Name:\tnode
State:\tS (sleeping)
VmPeak:\t 1260328 kB
VmHWM:\t  181236 kB
VmRSS:\t  150120 kB
RssAnon:\t   98000 kB
`;

describe("parseProcStatus", () => {
  it("reads resident and peak resident memory in bytes", () => {
    expect(parseProcStatus(STATUS)).toEqual({ rssBytes: 150_120 * 1024, peakRssBytes: 181_236 * 1024 });
  });
  it("refuses a status without the lines (not Linux, or a kernel thread)", () => {
    expect(() => parseProcStatus("Name:\tkthreadd\n")).toThrow(/VmRSS/);
  });
});
