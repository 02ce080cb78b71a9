import type { Bench, BenchResult, Figure } from "./bench-result.js";
import { fastest } from "./closed-loop.js";
import { type HttpLoadResult, type HttpTarget, httpLoad } from "./http-load.js";
import { cpuPerCall, type MeteredCpu, meterCpu, type ProcessGroups } from "./process-cpu.js";
import { formatNumber } from "./report.js";
import { type SqlLeaseFixture, startSqlLeaseFixture, TARGET_ID } from "./sql-lease-fixture.js";
import { type BareServer, startBareServer } from "./start-bare-server.js";
import { summarize } from "./stats.js";

/**
 * P5: authenticated API calls per second — tRPC `grants.get` with a bearer token for a lease the
 * caller holds, so each call verifies the JWT (or finds it verified), re-checks the lease's policy
 * and reads the grant — beside two baselines in one child process of their own:
 * - the fair floor: a bare Fastify 5 handler doing the same primary-key read of the same grant, with
 *   the same prepared statement, through a `pg` pool of the API's size (bare-server.ts);
 * - the bare handler: Fastify answering a small JSON body, no database (the first figure's baseline).
 * All three are driven by the same closed loop with the same connections for the same time.
 * BENCH_P5_SECONDS shortens (or lengthens) each measured round while developing; default 10.
 */
const CONNECTIONS = 8;
const WARM_UP_MS = 3000;
const MEASURE_MS = 1000 * Number(process.env.BENCH_P5_SECONDS ?? 10);
/** Rounds, each in another order (bare, floor, API; then API, floor, bare); the fastest of each counts. */
const ROUNDS = 2;
const TARGET_FLOOR_RATIO = 0.6;
const TARGET_RATE = 5000;

type Side = "api" | "floor" | "bare";
const SIDES: readonly Side[] = ["bare", "floor", "api"];
type Phase = MeteredCpu & { load: HttpLoadResult };

const rate = (phase: Phase) => (phase.load.wallMs > 0 ? (phase.load.ok * 1000) / phase.load.wallMs : 0);
const pct = (ratio: number) => `${formatNumber(ratio * 100)} %`;
const none = async () => [];

export const p5AuthenticatedCalls: Bench = {
  id: "P5",
  title: "authenticated API calls per second (JWT + lease lookup) vs. its fair floor and a bare handler",
  async run(log): Promise<BenchResult> {
    const fixture = await startSqlLeaseFixture(log);
    try {
      const bare = await startBareServer({ databaseUrl: fixture.stack.databaseUrl });
      try {
        const best = await measure(fixture, bare, log);
        return report(this.title, best);
      } finally {
        await bare.stop();
      }
    } finally {
      await fixture.close();
    }
  },
};

/** Warms each side up, then runs the rounds; returns each side's fastest round. */
async function measure(fixture: SqlLeaseFixture, bare: BareServer, log: (line: string) => void) {
  const { lease } = await fixture.client.lease(TARGET_ID);
  const targets: Record<Side, HttpTarget> = {
    api: {
      origin: fixture.stack.apiUrl,
      path: `/trpc/grants.get?input=${encodeURIComponent(JSON.stringify({ grantId: lease.id }))}`,
      headers: { authorization: `Bearer ${fixture.token}` },
    },
    floor: { origin: bare.url, path: `/grants/${lease.id}` },
    bare: { origin: bare.url, path: "/" },
  };
  // Every server and Leasehold's database are metered in every phase; the idle ones cost ~0.
  const processes: ProcessGroups = {
    api: fixture.processes.api ?? none,
    bare: async () => [bare.pid],
    "Leasehold's database": fixture.processes["Leasehold's database"] ?? none,
  };
  const drive = async (side: Side, durationMs: number): Promise<Phase> => {
    const { result, ...metered } = await meterCpu(processes, () =>
      httpLoad(targets[side], { connections: CONNECTIONS, durationMs }),
    );
    return { load: result, ...metered };
  };

  for (const side of SIDES) await drive(side, WARM_UP_MS);
  const rounds: Record<Side, Phase>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SIDES : [...SIDES].reverse();
    const phases: Partial<Record<Side, Phase>> = {};
    for (const side of order) phases[side] = await drive(side, MEASURE_MS);
    const done = phases as Record<Side, Phase>;
    rounds.push(done);
    log(`round ${round + 1}: ${SIDES.map((s) => `${s} ${formatNumber(rate(done[s]))}/s`).join(", ")}`);
  }
  const fastestOf = (side: Side) =>
    fastest(
      rounds.map((r) => r[side]),
      rate,
    );
  return { api: fastestOf("api"), floor: fastestOf("floor"), bare: fastestOf("bare") };
}

function report(title: string, best: Record<Side, Phase>): BenchResult {
  const ofFloor = rate(best.api) / rate(best.floor);
  const ofBare = rate(best.api) / rate(best.bare);
  const figures: Figure[] = [
    { name: "grants.get with a bearer token", value: rate(best.api), unit: "calls/s" },
    ...latencyFigures("grants.get", best.api.load),
    { name: "API / fair floor", value: ofFloor * 100, unit: "%" },
    { name: "API / bare", value: ofBare * 100, unit: "%" },
  ];
  const baselines: Figure[] = [
    { name: "fair floor: bare Fastify handler, same grant read", value: rate(best.floor), unit: "calls/s" },
    ...latencyFigures("fair floor", best.floor.load),
    { name: "bare Fastify handler, small JSON, no database", value: rate(best.bare), unit: "calls/s" },
    ...latencyFigures("bare", best.bare.load),
  ];
  const notes = [
    `${CONNECTIONS} keep-alive connections, one request in flight on each, ${MEASURE_MS / 1000} s per round after ${WARM_UP_MS / 1000} s of warm-up; the faster of ${ROUNDS} rounds (the order of the three reversed in the second)`,
    "the API runs from its build (node dist/main.js) at LOG_LEVEL info; the baselines' server has no logger. The load generator runs in the benchmark's own process, on the same 2 cores as the servers, PostgreSQL and Redis",
    "the fair floor reads the grant with the API's own statement (@leasehold/db's GRANT_BY_ID, prepared once per connection) through a pg pool of the API's size (POSTGRES_POOL_SIZE) and answers the row as JSON",
  ];
  for (const side of SIDES) {
    const { failed, firstFailure } = best[side].load;
    if (failed > 0) notes.push(`${side}: ${failed} calls failed (first: ${firstFailure})`);
  }
  notes.push(
    cpuNote("grants.get", best.api, ["api", "Leasehold's database", "bench"]),
    cpuNote("fair floor", best.floor, ["bare", "Leasehold's database", "bench"]),
    cpuNote("bare", best.bare, ["bare", "bench"]),
  );
  return {
    id: "P5",
    title,
    figures,
    baselines,
    target: {
      description: `≥ ${pct(TARGET_FLOOR_RATIO)} of the fair floor and ≥ ${formatNumber(TARGET_RATE)} calls/s`,
      met: ofFloor >= TARGET_FLOOR_RATIO && rate(best.api) >= TARGET_RATE,
    },
    notes,
  };
}

/** CPU per successful call, in µs, by process group (and its kernel part). */
function cpuNote(name: string, phase: Phase, groups: readonly string[]): string {
  const parts = groups.map((g) => cpuPerCall(phase, g, phase.load.ok, 1000));
  return `CPU per ${name} call, µs: ${parts.join(", ")} (bench = this process: the load generator, and reading the API's logs)`;
}

function latencyFigures(name: string, result: HttpLoadResult): Figure[] {
  if (result.latenciesMs.length === 0) return [];
  const s = summarize(result.latenciesMs);
  return [
    { name: `${name} latency p50`, value: s.p50, unit: "ms" },
    { name: `${name} latency p99`, value: s.p99, unit: "ms" },
  ];
}
