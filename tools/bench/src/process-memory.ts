import { readFile } from "node:fs/promises";

/** A process's resident memory, from Linux's /proc/<pid>/status, in bytes. */
export type ProcessMemory = {
  /** VmRSS: resident now. */
  readonly rssBytes: number;
  /** VmHWM: the most it was ever resident ("high water mark"), so a peak between two reads is not lost. */
  readonly peakRssBytes: number;
};

/** Parses the VmRSS and VmHWM lines of /proc/<pid>/status (the kernel writes them in kB). */
export function parseProcStatus(status: string): ProcessMemory {
  const kB = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match?.[1]) throw new Error(`/proc status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kB("VmRSS"), peakRssBytes: kB("VmHWM") };
}

/** The memory of one running process (Linux only). */
export async function readProcessMemory(pid: number): Promise<ProcessMemory> {
  return parseProcStatus(await readFile(`/proc/${pid}/status`, "utf8"));
}
