import { readdir, readFile, readlink } from "node:fs/promises";
import pg from "pg";
import { formatNumber } from "./report.js";

/**
 * CPU time spent by processes (Linux /proc), to say where a benchmark's work goes: the API, the
 * worker, the PostgreSQL backends serving one database, the benchmark process itself.
 */

/** Linux reports utime and stime in USER_HZ ticks, which is 100 per second on every architecture. */
const MS_PER_TICK = 10;

/**
 * A process's CPU time in milliseconds: in all, and the part spent in the kernel on its behalf
 * (stime: system calls, the loopback TCP a socket write drives). The kernel part is what a CPU
 * profile cannot split: V8's samples put a thread preempted inside a write on the write.
 */
export type CpuTime = { readonly ms: number; readonly kernelMs: number };

/** utime + stime, and stime, from the text of /proc/<pid>/stat. */
export function parseProcStatCpu(stat: string): CpuTime {
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unreadable /proc stat line");
  return { ms: (utime + stime) * MS_PER_TICK, kernelMs: stime * MS_PER_TICK };
}

const parentOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);

/** CPU time of each process so far; a process that has gone counts as absent. */
export async function cpuOf(pids: readonly number[]): Promise<Map<number, CpuTime>> {
  const times = new Map<number, CpuTime>();
  for (const pid of pids) {
    try {
      times.set(pid, parseProcStatCpu(await readFile(`/proc/${pid}/stat`, "utf8")));
    } catch {
      // exited meanwhile
    }
  }
  return times;
}

/**
 * CPU used between two readings. A process first seen in `after` started in between, so all of its
 * time counts; one gone by `after` is lost (its last slice is not known).
 */
export function cpuBetween(
  before: ReadonlyMap<number, CpuTime>,
  after: ReadonlyMap<number, CpuTime>,
): CpuTime {
  let ms = 0;
  let kernelMs = 0;
  for (const [pid, time] of after) {
    ms += time.ms - (before.get(pid)?.ms ?? 0);
    kernelMs += time.kernelMs - (before.get(pid)?.kernelMs ?? 0);
  }
  return { ms, kernelMs };
}

/** What meterCpu measured of each group, in milliseconds. */
export type MeteredCpu = {
  readonly cpuMs: Record<string, number>;
  readonly kernelMs: Record<string, number>;
};

/**
 * One group's CPU per call with its kernel part, as the notes print it (`api 189 (kernel 38)`);
 * `unitsPerMs` is 1 for milliseconds, 1000 for microseconds.
 */
export function cpuPerCall(metered: MeteredCpu, group: string, calls: number, unitsPerMs: number): string {
  const per = (ms: number | undefined) => formatNumber(((ms ?? 0) * unitsPerMs) / Math.max(1, calls));
  return `${group} ${per(metered.cpuMs[group])} (kernel ${per(metered.kernelMs[group])})`;
}

/** Named groups of processes, each found afresh before and after (pools open connections meanwhile). */
export type ProcessGroups = Readonly<Record<string, () => Promise<readonly number[]>>>;

/**
 * Runs `work` and returns the CPU milliseconds each group, and this process (`bench`), spent
 * meanwhile: in all (`cpuMs`) and in the kernel (`kernelMs`).
 */
export async function meterCpu<T>(
  groups: ProcessGroups,
  work: () => Promise<T>,
): Promise<MeteredCpu & { result: T }> {
  const find = async () =>
    new Map(
      await Promise.all(Object.entries(groups).map(async ([name, pids]) => [name, await pids()] as const)),
    );
  const pidsBefore = await find();
  const before = new Map<string, Map<number, CpuTime>>();
  for (const [name, pids] of pidsBefore) before.set(name, await cpuOf(pids));
  const ownBefore = ownCpu();
  const result = await work();
  const own = ownCpu();
  const cpuMs: Record<string, number> = { bench: own.ms - ownBefore.ms };
  const kernelMs: Record<string, number> = { bench: own.kernelMs - ownBefore.kernelMs };
  for (const [name, pids] of await find()) {
    const all = [...new Set([...(pidsBefore.get(name) ?? []), ...pids])];
    const used = cpuBetween(before.get(name) ?? new Map(), await cpuOf(all));
    cpuMs[name] = used.ms;
    kernelMs[name] = used.kernelMs;
  }
  return { result, cpuMs, kernelMs };
}

/** This process's children whose working directory is `dir` (how the end-to-end kit starts each app). */
export async function childPidsIn(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      if (parentOf(stat) !== process.pid) continue;
      if ((await readlink(`/proc/${pid}/cwd`)).replace(/\/$/, "") === dir.replace(/\/$/, "")) found.push(pid);
    } catch {
      // not ours to read, or gone
    }
  }
  return found;
}

/** Process ids of the PostgreSQL backends connected to `database` now (the server is on this machine). */
export async function backendPids(adminUrl: string, database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** This process's own CPU time so far. */
const ownCpu = (): CpuTime => {
  const { user, system } = process.cpuUsage();
  return { ms: (user + system) / 1000, kernelMs: system / 1000 };
};
