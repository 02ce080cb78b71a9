import { readdir, readFile, readlink } from "node:fs/promises";
import pg from "pg";

/**
 * CPU time spent by processes (Linux /proc), to say where a benchmark's work goes: the API, the
 * worker, the PostgreSQL backends serving one database, the benchmark process itself.
 */

/** Linux reports utime and stime in USER_HZ ticks, which is 100 per second on every architecture. */
const MS_PER_TICK = 10;

/** utime + stime from the text of /proc/<pid>/stat, in milliseconds. */
export function parseProcStatCpuMs(stat: string): number {
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unreadable /proc stat line");
  return (utime + stime) * MS_PER_TICK;
}

const parentOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);

/** CPU milliseconds of each process so far; a process that has gone counts as absent. */
export async function cpuMsOf(pids: readonly number[]): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    try {
      times.set(pid, parseProcStatCpuMs(await readFile(`/proc/${pid}/stat`, "utf8")));
    } catch {
      // exited meanwhile
    }
  }
  return times;
}

/**
 * CPU used between two readings, in milliseconds. A process first seen in `after` started in between,
 * so all of its time counts; one gone by `after` is lost (its last slice is not known).
 */
export function cpuMsBetween(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Named groups of processes, each found afresh before and after (pools open connections meanwhile). */
export type ProcessGroups = Readonly<Record<string, () => Promise<readonly number[]>>>;

/** Runs `work` and returns the CPU milliseconds each group, and this process (`bench`), spent meanwhile. */
export async function meterCpu<T>(
  groups: ProcessGroups,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const find = async () =>
    new Map(
      await Promise.all(Object.entries(groups).map(async ([name, pids]) => [name, await pids()] as const)),
    );
  const pidsBefore = await find();
  const before = new Map<string, Map<number, number>>();
  for (const [name, pids] of pidsBefore) before.set(name, await cpuMsOf(pids));
  const ownBefore = ownCpuMs();
  const result = await work();
  const cpuMs: Record<string, number> = { bench: ownCpuMs() - ownBefore };
  for (const [name, pids] of await find()) {
    const all = [...new Set([...(pidsBefore.get(name) ?? []), ...pids])];
    cpuMs[name] = cpuMsBetween(before.get(name) ?? new Map(), await cpuMsOf(all));
  }
  return { result, cpuMs };
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

/** This process's own CPU time so far, in milliseconds. */
export const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
