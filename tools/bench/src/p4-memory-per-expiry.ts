import type { Bench } from "./bench-result.js";
import { expiryScenario } from "./expiry-scenario.js";

/**
 * P4: what 100,000 scheduled expiries cost in memory: the worker's resident set (while they wait,
 * and its peak while they run) and Redis's used_memory per scheduled job. Reads the result of the
 * scenario P3 runs (expiry-scenario.ts), or runs its first wave when P4 runs alone. The targets'
 * "MB" and "KB" are read as MiB and KiB.
 */
const MiB = 2 ** 20;
const TARGET_RSS_BYTES = 300 * MiB;
const TARGET_REDIS_BYTES_PER_GRANT = 1024;

export const p4MemoryPerExpiry: Bench = {
  id: "P4",
  title: "worker and Redis memory at 100k scheduled expiries",
  async run(log) {
    const { memory } = await expiryScenario(false, log);
    const perGrant = (memory.redisBytesAfter - memory.redisBytesBefore) / memory.scheduledJobs;
    const rssMet = memory.workerPeakRssBytes <= TARGET_RSS_BYTES;
    const redisMet = perGrant <= TARGET_REDIS_BYTES_PER_GRANT;
    return {
      id: "P4",
      title: this.title,
      figures: [
        {
          name: "worker RSS with 100k expiries scheduled",
          value: memory.workerRssBytesScheduled / MiB,
          unit: "MiB",
        },
        {
          name: "worker peak RSS (VmHWM) through the 100k expiries",
          value: memory.workerPeakRssBytes / MiB,
          unit: "MiB",
        },
        { name: "Redis used_memory per scheduled expiry", value: perGrant, unit: "bytes" },
      ],
      baselines: [
        { name: "worker RSS at start, idle", value: memory.workerRssBytesAtStart / MiB, unit: "MiB" },
        { name: "Redis used_memory before scheduling", value: memory.redisBytesBefore / MiB, unit: "MiB" },
        { name: "Redis used_memory with 100k scheduled", value: memory.redisBytesAfter / MiB, unit: "MiB" },
      ],
      target: {
        description:
          `≤ 300 MB worker RSS (peak) and ≤ 1 KB Redis per grant — ${rssMet ? "met" : "missed"}` +
          ` / ${redisMet ? "met" : "missed"}`,
        met: rssMet && redisMet,
      },
      notes: [
        "RSS from /proc/<pid>/status of the one worker process, run from TypeScript through tsx as the stack" +
          " runs it; the jobs wait in Redis, not in the worker, and its RSS swings with garbage collection" +
          " while they run (the peak is the high-water mark, VmHWM)",
        "Redis per grant = used_memory delta across scheduling ÷ jobs scheduled: mostly the job's hash" +
          " (~840 B: BullMQ stores its options as JSON longer than 64 B, so Redis keeps the hash as a table," +
          " not a listpack) and its entry in the delayed set; BullMQ's event stream is capped at ~10,000 entries",
      ],
    };
  },
};
