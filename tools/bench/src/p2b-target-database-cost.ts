import type { Bench, BenchResult, Figure } from "./bench-result.js";
import { closedLoop } from "./closed-loop.js";
import { measureVerifierCost } from "./p2-verifier-cost.js";
import { meterCpu, type ProcessGroups } from "./process-cpu.js";
import { openRawRoleCreator, type RawRoleCreator } from "./raw-role-creation.js";
import { formatNumber } from "./report.js";
import { startSqlLeaseFixture, TARGET_ID } from "./sql-lease-fixture.js";
import { summarize } from "./stats.js";

/**
 * P2b: what one lease costs the target PostgreSQL, Leasehold against raw `CREATE ROLE … PASSWORD … +
 * GRANT` (the plaintext password, hashed by the server inside the advisory lock, as Vault does):
 * - CPU of the target database's backends per lease (/proc of the backends connected to it), end to
 *   end: leases through the API (the worker's admin pool) against the raw loop;
 * - how long each transaction holds the advisory lock that serializes GRANTs, measured from the client
 *   (lock granted → COMMIT acknowledged), one at a time so no waiting is counted: Leasehold's
 *   statements (the SCRAM verifier in place of the password) against the raw ones;
 * - and what the hashing moved out of the database costs Leasehold (µs per verifier).
 */
const CONCURRENCY = 4;
const CALLS = 300;
const ROUNDS = 2;
const WARM_UP_CALLS = 24;
const LOCK_SAMPLES = 300;
const VERIFIERS = 300;
const TARGET_RATIO = 0.25;
const LEASE_TTL_SECONDS = 3600;

const ms = (v: number) => `${formatNumber(v)} ms`;

export const p2bTargetDatabaseCost: Bench = {
  id: "P2B",
  title: "the target PostgreSQL's CPU and advisory-lock hold per lease, Leasehold vs. raw",
  async run(log): Promise<BenchResult> {
    const fixture = await startSqlLeaseFixture(log);
    try {
      const target = fixture.processes["target database"];
      if (!target) throw new Error("the fixture names no target database processes");
      const groups: ProcessGroups = { "target database": target };

      const verifier = await measureVerifierCost(VERIFIERS, 8);
      log(
        `verifier: ${formatNumber(verifier.wallUs)} µs each, ${formatNumber(verifier.eventLoopUs)} µs on the event loop`,
      );

      const raw = openRawRoleCreator(fixture.scratch.pgUrl, CONCURRENCY);
      const leased: string[] = [];
      const cpu = { raw: { ms: 0, leases: 0 }, api: { ms: 0, leases: 0 } };
      const sides = {
        raw: async (n: number, counted: boolean) => {
          const { result, cpuMs } = await meterCpu(groups, () =>
            closedLoop(n, CONCURRENCY, async () => {
              await raw.createRole();
            }),
          );
          await fixture.dropRoles(raw.takeNames());
          if (counted) add(cpu.raw, cpuMs, result.succeeded, result.failed, "raw");
        },
        api: async (n: number, counted: boolean) => {
          const { result, cpuMs } = await meterCpu(groups, () =>
            closedLoop(n, CONCURRENCY, async () => {
              const { credential } = await fixture.client.lease(TARGET_ID, LEASE_TTL_SECONDS);
              leased.push(credential.username ?? "");
            }),
          );
          await fixture.dropRoles(leased.splice(0));
          if (counted) add(cpu.api, cpuMs, result.succeeded, result.failed, "API");
        },
      };
      try {
        await sides.raw(WARM_UP_CALLS, false);
        await sides.api(WARM_UP_CALLS, false);
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? (["raw", "api"] as const) : (["api", "raw"] as const);
          for (const side of order) await sides[side](CALLS, true);
        }
      } finally {
        await raw.close();
        await fixture.dropRoles([...raw.takeNames(), ...leased]);
      }

      const holds = await lockHolds(fixture.scratch.pgUrl, fixture.dropRoles);
      const cpuApi = cpu.api.ms / Math.max(1, cpu.api.leases);
      const cpuRaw = cpu.raw.ms / Math.max(1, cpu.raw.leases);
      const hold = { leasehold: summarize(holds.leasehold), raw: summarize(holds.raw) };
      const cpuRatio = cpuApi / cpuRaw;
      const holdRatio = hold.leasehold.p50 / hold.raw.p50;
      const figures: Figure[] = [
        {
          name: `target database CPU per lease through the API, ${CONCURRENCY} in flight`,
          value: cpuApi,
          unit: "ms",
        },
        { name: "target database CPU, API / raw", value: cpuRatio * 100, unit: "%" },
        {
          name: "advisory lock held per lease, Leasehold's statements, p50",
          value: hold.leasehold.p50,
          unit: "ms",
        },
        { name: "advisory lock held, Leasehold / raw (p50)", value: holdRatio * 100, unit: "%" },
        { name: "SCRAM verifier computed by Leasehold, one at a time", value: verifier.wallUs, unit: "µs" },
        { name: "  of which on the event loop", value: verifier.eventLoopUs, unit: "µs" },
      ];
      const baselines: Figure[] = [
        {
          name: `target database CPU per raw CREATE ROLE + GRANT, ${CONCURRENCY} in flight`,
          value: cpuRaw,
          unit: "ms",
        },
        { name: "advisory lock held per raw CREATE ROLE + GRANT, p50", value: hold.raw.p50, unit: "ms" },
      ];
      return {
        id: "P2b",
        title: this.title,
        figures,
        baselines,
        target: {
          description: `≤ ${formatNumber(TARGET_RATIO * 100)} % of raw's target-database CPU and lock hold per lease`,
          met: cpuRatio <= TARGET_RATIO && holdRatio <= TARGET_RATIO,
        },
        notes: [
          `CPU: the target database's backends (/proc/<pid>/stat, 10 ms ticks) over ${ROUNDS} rounds of ${CALLS} leases per side at ${CONCURRENCY} in flight, alternating, after ${WARM_UP_CALLS} warm-up calls; through the API these are the worker's admin connections (so the sweep's drift check counts too); ${cpu.api.leases} and ${cpu.raw.leases} calls counted`,
          `lock hold: from the client, lock granted → COMMIT acknowledged, ${LOCK_SAMPLES} transactions per side one at a time, alternating, on one connection each; Leasehold's side sends what its engine sends, in its order: the target's creation statements with the verifier Leasehold computes (passwordForTemplates), CREATE ROLE before the lock, then the GRANT and COMMIT under it (postgres-admin.ts); raw takes the lock first, as Leasehold did before; p99 Leasehold ${ms(hold.leasehold.p99)}, raw ${ms(hold.raw.p99)}`,
          'why the CPU half is out of reach on PostgreSQL: CREATE ROLE and ALTER ROLE check a supplied verifier against the empty password (user.c: plain_crypt_verify(role, verifier, "")), one PBKDF2 with the verifier\'s own iteration count, as much work as hashing the plaintext; fewer iterations would weaken the verifier. What Leasehold can move is that work out of the lock, which it does',
          `hashing: PBKDF2-HMAC-SHA-256 × 4096 on libuv's thread pool (crypto.pbkdf2), ${VERIFIERS} verifiers; with 8 in flight ${formatNumber(verifier.concurrentWallUs)} µs of wall time per verifier`,
        ],
      };
    } finally {
      await fixture.close();
    }
  },
};

function add(
  into: { ms: number; leases: number },
  cpuMs: Record<string, number>,
  succeeded: number,
  failed: number,
  side: string,
): void {
  if (failed > 0) throw new Error(`${side}: ${failed} calls failed; the CPU per lease would be wrong`);
  into.ms += cpuMs["target database"] ?? 0;
  into.leases += succeeded;
}

/** Lock hold times of raw's and Leasehold's statements, one transaction at a time, alternating. */
async function lockHolds(
  adminUrl: string,
  dropRoles: (names: readonly string[]) => Promise<void>,
): Promise<{ leasehold: number[]; raw: number[] }> {
  const creators: Record<"leasehold" | "raw", RawRoleCreator> = {
    leasehold: openRawRoleCreator(adminUrl, 1, "leasehold"),
    raw: openRawRoleCreator(adminUrl, 1, "plaintext"),
  };
  const holds = { leasehold: [] as number[], raw: [] as number[] };
  try {
    for (let i = 0; i < LOCK_SAMPLES + 10; i++) {
      for (const side of i % 2 === 0 ? (["raw", "leasehold"] as const) : (["leasehold", "raw"] as const)) {
        const { lockHeldMs } = await creators[side].createRole();
        if (i >= 10) holds[side].push(lockHeldMs); // the first ten warm up
      }
    }
    return holds;
  } finally {
    for (const creator of Object.values(creators)) {
      await creator.close();
      await dropRoles(creator.takeNames());
    }
  }
}
