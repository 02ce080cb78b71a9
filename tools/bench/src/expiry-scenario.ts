import { loadavg } from "node:os";
import { grantJobId, type QueueConnection, queueSchemaFor } from "@leasehold/queue";
import { PEOPLE, type PrivateRedis, ROLE_ARN, startPrivateRedis } from "@leasehold/test-kit";
import { isLargeRun } from "./bench-options.js";
import { type BenchStack, startBenchStack } from "./bench-stack.js";
import { type ExpiryOutcome, type ExpiryRow, judgeExpiries } from "./expiry-outcome.js";
import { scheduleExpiries, seedActiveGrants } from "./grant-seeding.js";
import { readProcessMemory } from "./process-memory.js";
import { grantsExpiredBySweep } from "./worker-log.js";

/**
 * The scenario P3 and P4 share, on each queue backend: 100,000 active grants whose deadlines fall
 * within one minute, expired by one real worker process with production settings (sweep every 15 s,
 * default concurrency), its queues on a private redis-server (so flushing it harms nothing else) or in
 * the stack's own PostgreSQL database. First a normal wave; then, when asked, a second wave of 100,000
 * during which the store loses every job halfway (FLUSHALL, or the queue tables truncated), so only
 * the sweep can expire the rest. Memory is read once the first wave is scheduled (before its first
 * deadline), and the worker's peak after it has run.
 */
export const GRANTS = 100_000;
export const WINDOW_MS = 60_000;
/**
 * Expiry jobs waiting in all while the window runs: with `--large` a million, the 900,000 beyond the
 * window's due after it (from one to three hours later), so the queue and the sweep work at that scale.
 */
export const SCHEDULED = isLargeRun() ? 1_000_000 : GRANTS;
/** Where the grants not due in the window fall: from this long after its end, over BACKGROUND_SPAN_MS. */
const BACKGROUND_AFTER_MS = 3_600_000;
const BACKGROUND_SPAN_MS = 7_200_000;
/** The worker's sweep interval: production's default, and the bound of DESIGN.md invariant 5. */
export const SWEEP_INTERVAL_SECONDS = 15;
/** A grant still active this long after its deadline is missed (invariant 5: deadline + sweep interval). */
export const MISSED_BOUND_MS = SWEEP_INTERVAL_SECONDS * 1000;
/** Expiry jobs scheduled concurrently while seeding. */
const SCHEDULING_LANES = 64;
/**
 * From the start of seeding to the first deadline, so that seeding ends before it. Seeding the first
 * wave takes 10–25 s here; how long varies with what else runs on the machine, so the second wave
 * allows twice what the first took, plus a margin.
 */
const FIRST_LEAD_MS: Record<QueueBackend, number> = {
  // 25 s was too little on two cores shared with other work: seeding once ran 0.4 s into the window.
  redis: 45_000,
  // BullMQ's PostgreSQL backend took 176 s, and 336 s on a busier day, to take the 100,000 expiry jobs
  // here (300–570 a second through the producer's pool of 2): the first deadline must be further away.
  postgres: 420_000,
};
const LEAD_MARGIN_MS = 5_000;

export type ExpiryWave = {
  readonly label: string;
  readonly outcome: ExpiryOutcome;
  /** How many of the grants the sweep expired (the rest were expired by their delayed jobs). */
  readonly expiredBySweep: number;
  readonly seedMs: number;
  readonly scheduleMs: number;
  /** From the end of seeding to the first deadline; negative would mean seeding overlapped the window. */
  readonly slackMs: number;
  /** When Redis was flushed, ms after the first deadline. */
  readonly flushedAfterMs: number | undefined;
  readonly loadAverage: number;
};

export type MemoryAtScale = {
  readonly scheduledJobs: number;
  /** The worker idle, before any grant was seeded. */
  readonly workerRssBytesAtStart: number;
  /** The queue store's size: Redis's used_memory, or the queue schema's tables and indexes. */
  readonly storeBytesBefore: number;
  readonly storeBytesAfter: number;
  readonly workerRssBytesScheduled: number;
  /** VmHWM after the first wave: the most the worker was ever resident. */
  readonly workerPeakRssBytes: number;
  /** Redis only: one expiry job's hash, by MEMORY USAGE, and how Redis encodes it (listpack or hashtable). */
  readonly jobKey: { readonly bytes: number; readonly encoding: string } | undefined;
};

export type ExpiryScenario = {
  readonly normal: ExpiryWave;
  readonly flushed: ExpiryWave | undefined;
  readonly memory: MemoryAtScale;
};

/**
 * The queue backends the scenario runs on, side by side (`--large`: Redis only). BENCH_EXPIRY_BACKENDS
 * (e.g. `redis`) picks fewer while developing.
 */
const ALL_BACKENDS = ["redis", "postgres"] as const;
export type QueueBackend = (typeof ALL_BACKENDS)[number];
const picked = process.env.BENCH_EXPIRY_BACKENDS?.split(",");
export const QUEUE_BACKENDS: readonly QueueBackend[] = isLargeRun()
  ? ["redis"]
  : ALL_BACKENDS.filter((b) => picked === undefined || picked.includes(b));

const memo = new Map<QueueBackend, { withFlush: boolean; result: Promise<ExpiryScenario> }>();

/**
 * Runs the scenario once per backend per `pnpm bench` and hands the same result to every bench that
 * asks; `withFlush` adds the flushed wave (P3 wants it, P4 does not need it).
 */
export function expiryScenario(
  backend: QueueBackend,
  withFlush: boolean,
  log: (line: string) => void,
): Promise<ExpiryScenario> {
  const known = memo.get(backend);
  if (known && (known.withFlush || !withFlush)) return known.result;
  const result = runScenario(backend, withFlush, (line) => log(`[${backend}] ${line}`));
  memo.set(backend, { withFlush, result });
  return result;
}

/** Where the stack's queues are, how big that store is, and how it loses every job. */
type QueueStore = {
  connection: QueueConnection;
  usedBytes(): Promise<number>;
  loseEveryJob(): Promise<void>;
  /** One expiry job's hash in Redis: its MEMORY USAGE and encoding; undefined on PostgreSQL. */
  jobKey(jobId: string): Promise<MemoryAtScale["jobKey"]>;
};

function queueStoreOf(bench: BenchStack, redis: PrivateRedis | undefined): QueueStore {
  const { stack } = bench;
  if (redis) {
    return {
      connection: { backend: "redis", redisUrl: redis.url, prefix: stack.queuePrefix },
      usedBytes: () => redis.usedMemory(),
      loseEveryJob: () => redis.flushAll(),
      jobKey: async (jobId) => {
        const key = `${stack.queuePrefix}:grant-expire:${jobId}`;
        const [bytes, encoding] = await Promise.all([
          stack.redis.memory("USAGE", key),
          stack.redis.object("ENCODING", key),
        ]);
        return { bytes: Number(bytes ?? 0), encoding: String(encoding ?? "missing") };
      },
    };
  }
  const schema = queueSchemaFor(stack.queuePrefix);
  return {
    connection: { backend: "postgres", databaseUrl: stack.databaseUrl, schema, migrated: true },
    usedBytes: async () => {
      const [row] = await stack.db.query<{ bytes: string | null }>(
        `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      return Number(row?.bytes ?? 0);
    },
    loseEveryJob: () => stack.loseQueuedJobs(),
    jobKey: async () => undefined,
  };
}

async function runScenario(
  backend: QueueBackend,
  withFlush: boolean,
  log: (line: string) => void,
): Promise<ExpiryScenario> {
  const redis = backend === "redis" ? await startPrivateRedis() : undefined;
  let bench: BenchStack | undefined;
  try {
    log(
      `starting the stack, its queues on ${redis ? "a private redis-server" : "its PostgreSQL database"} (load average ${load().toFixed(2)})`,
    );
    bench = await startBenchStack({
      sweepIntervalSeconds: SWEEP_INTERVAL_SECONDS,
      queueBackend: backend,
      ...(redis ? { redisUrl: redis.url } : {}),
    });
    log(`worker pid ${bench.stack.workerPids().join(", ")}`);
    const store = queueStoreOf(bench, redis);
    const pids = bench.stack.workerPids();
    const storeBytesBefore = await store.usedBytes();
    const workerRssBytesAtStart = await sumOver(pids, async (pid) => (await readProcessMemory(pid)).rssBytes);
    await scheduleBackground(bench, store, log);

    const first = await runWave(bench, store, log, { label: "normal", leadMs: FIRST_LEAD_MS[backend] });
    const memory: MemoryAtScale = {
      scheduledJobs: SCHEDULED,
      workerRssBytesAtStart,
      storeBytesBefore,
      storeBytesAfter: first.storeBytesScheduled,
      workerRssBytesScheduled: first.workerRssBytesScheduled,
      workerPeakRssBytes: await sumOver(pids, async (pid) => (await readProcessMemory(pid)).peakRssBytes),
      jobKey: first.jobKey,
    };
    const flushed = withFlush
      ? await runWave(bench, store, log, {
          label: "store lost every job halfway",
          leadMs: Math.max(
            FIRST_LEAD_MS[backend],
            2 * (first.wave.seedMs + first.wave.scheduleMs) + LEAD_MARGIN_MS,
          ),
          flushAfterMs: WINDOW_MS / 2,
        })
      : undefined;
    return { normal: first.wave, flushed: flushed?.wave, memory };
  } finally {
    await bench?.stop();
    await redis?.stop();
  }
}

/** The expiries beyond the window (`--large`): scheduled first, due hours after the run. */
async function scheduleBackground(bench: BenchStack, store: QueueStore, log: (line: string) => void) {
  const count = SCHEDULED - GRANTS;
  if (count <= 0) return;
  const started = Date.now();
  const windowStart = new Date(started + BACKGROUND_AFTER_MS);
  log(
    `scheduling ${count} expiries due from ${windowStart.toISOString()} over ${BACKGROUND_SPAN_MS / 60_000} min`,
  );
  const grants = await seedActiveGrants(
    bench.stack.db,
    { targetId: "prod-readonly", principalId: PEOPLE.dev.email, roleArn: ROLE_ARN },
    { count, windowStart, windowMs: BACKGROUND_SPAN_MS },
  );
  const inserted = Date.now();
  await scheduleExpiries(store.connection, grants, SCHEDULING_LANES);
  log(`background: rows in ${inserted - started} ms, jobs in ${Date.now() - inserted} ms`);
}

async function runWave(
  bench: BenchStack,
  store: QueueStore,
  log: (line: string) => void,
  options: { label: string; leadMs: number; flushAfterMs?: number },
): Promise<{
  wave: ExpiryWave;
  storeBytesScheduled: number;
  workerRssBytesScheduled: number;
  jobKey: MemoryAtScale["jobKey"];
}> {
  const { stack } = bench;
  const started = Date.now();
  const windowStart = new Date(started + options.leadMs);
  const windowEnd = new Date(windowStart.getTime() + WINDOW_MS);
  log(`${options.label}: seeding ${GRANTS} grants with deadlines from ${windowStart.toISOString()} for 60 s`);
  const grants = await seedActiveGrants(
    stack.db,
    { targetId: "prod-readonly", principalId: PEOPLE.dev.email, roleArn: ROLE_ARN },
    { count: GRANTS, windowStart, windowMs: WINDOW_MS },
  );
  const inserted = Date.now();
  await scheduleExpiries(store.connection, grants, SCHEDULING_LANES);
  const scheduled = Date.now();
  const storeBytesScheduled = await store.usedBytes();
  const last = grants[grants.length - 1];
  const jobKey = last ? await store.jobKey(grantJobId(last.id)) : undefined;
  const workerRssBytesScheduled = await sumOver(
    stack.workerPids(),
    async (pid) => (await readProcessMemory(pid)).rssBytes,
  );
  const slackMs = windowStart.getTime() - scheduled;
  log(
    `${options.label}: rows in ${inserted - started} ms, jobs in ${scheduled - inserted} ms; ` +
      `${slackMs} ms to spare before the first deadline`,
  );
  const logOffset = stack.output().length;

  let flushedAfterMs: number | undefined;
  if (options.flushAfterMs !== undefined) {
    await sleepUntil(windowStart.getTime() + options.flushAfterMs);
    await store.loseEveryJob();
    flushedAfterMs = Date.now() - windowStart.getTime();
    log(`${options.label}: every job lost ${flushedAfterMs} ms after the first deadline`);
  }

  // Wait for the window to pass, then until every grant has ended or the last one's bound has passed.
  await sleepUntil(windowEnd.getTime());
  const giveUpAt = windowEnd.getTime() + MISSED_BOUND_MS + 2_000;
  for (;;) {
    const [row] = await stack.db.query<{ active: string }>(
      `SELECT count(*)::text AS active FROM grants
       WHERE expires_at >= $1 AND expires_at < $2 AND state IN ('active', 'revocation_failed')`,
      [windowStart, windowEnd],
    );
    const active = Number(row?.active ?? 0);
    if (active === 0 || Date.now() > giveUpAt) break;
    log(`${options.label}: ${active} still active`);
    await sleep(1_000);
  }
  const observedAt = Date.now();
  const rows = await stack.db.query<{ expires_ms: number; ended_ms: number | null }>(
    `SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms,
            (extract(epoch FROM ended_at) * 1000)::float8 AS ended_ms
     FROM grants WHERE expires_at >= $1 AND expires_at < $2`,
    [windowStart, windowEnd],
  );
  const outcome = judgeExpiries(
    rows.map((r): ExpiryRow => ({ expiresAtMs: r.expires_ms, endedAtMs: r.ended_ms })),
    MISSED_BOUND_MS,
    observedAt,
  );
  const wave: ExpiryWave = {
    label: options.label,
    outcome,
    expiredBySweep: grantsExpiredBySweep(stack.output().slice(logOffset)),
    seedMs: inserted - started,
    scheduleMs: scheduled - inserted,
    slackMs,
    flushedAfterMs,
    loadAverage: load(),
  };
  log(
    `${options.label}: ${outcome.missed} missed, lateness p99 ${outcome.latenessMs?.p99 ?? "-"} ms, ` +
      `${wave.expiredBySweep} expired by the sweep (load average ${wave.loadAverage.toFixed(2)})`,
  );
  return { wave, storeBytesScheduled, workerRssBytesScheduled, jobKey };
}

const load = () => loadavg()[0] ?? 0;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sleepUntil = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()));

async function sumOver(pids: readonly number[], read: (pid: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await read(pid);
  return total;
}
