import { fileURLToPath } from "node:url";
import type { AppRouter } from "@leasehold/api/router";
import { createLeaseholdClient, type LeaseholdClient } from "@leasehold/client";
import { sqlRoleName } from "@leasehold/providers";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import {
  createScratchDatabases,
  type Stack as KitStack,
  type ScratchDatabases,
  startStack,
} from "@leasehold/test-kit";
import { builtApps } from "./bench-stack.js";
import { cpuProfilingEnv } from "./cpu-profiling.js";
import { backendPids, childPidsIn, type ProcessGroups } from "./process-cpu.js";
import { dropRoles } from "./role-cleanup.js";

type Stack = KitStack<AppRouter>;

/**
 * A real Leasehold (API and worker processes on PostgreSQL and Redis) with one native PostgreSQL
 * target, `bench-pg`, on a scratch database with an `orders` table, and a workload token its lease
 * rule allows: what P2 and P5 measure. `close` removes everything it made, roles included.
 */
export const TARGET_ID = "bench-pg";

/** Same shape as the leasing tests' target: a login role with a deadline, and one grant on a table. */
export const CREATION_STATEMENTS = [
  `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
  `GRANT SELECT ON orders TO "{{name}}"`,
] as const;

const SUBJECT = "system:serviceaccount:bench:load";
/** Where the end-to-end kit starts the API process (its working directory). */
const API_DIR = fileURLToPath(new URL("../../../apps/api", import.meta.url));

const CONFIG = `
identityProviders:
  - name: k8s
    kind: workload
    issuer: "{issuer}"
    audience: leasehold
# A benchmark measures throughput: the caps and rate limits must not be what it measures.
limits: { activeLeases: 100000, rates: { leases: 100000, revocations: 100000 } }
targets:
  - id: ${TARGET_ID}
    kind: sql
    maxDuration: 2h
    defaultDuration: 1h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:bench:*", maxTtl: 2h, maxActive: 10000 }
    sql:
      engine: postgres
      adminUrlEnv: BENCH_PG_ADMIN_URL
      creationStatements:
${CREATION_STATEMENTS.map((s) => `        - ${s}`).join("\n")}
`;

export type SqlLeaseFixture = {
  readonly stack: Stack;
  readonly scratch: ScratchDatabases;
  /** A workload token valid for the whole run (a workload reuses its token until it rotates). */
  readonly token: string;
  readonly client: LeaseholdClient;
  /** The API, the worker, and the PostgreSQL backends of Leasehold's database and of the target's. */
  readonly processes: ProcessGroups;
  /** Drops these roles now (they are Leasehold's or the baseline's, on the scratch database). */
  dropRoles(names: readonly string[]): Promise<void>;
  close(): Promise<void>;
};

/** With BENCH_CPU_PROFILE_DIR set, the API and worker write CPU profiles there (cpu-profiling.ts). */
export async function startSqlLeaseFixture(log: (line: string) => void): Promise<SqlLeaseFixture> {
  const opened: { close(): Promise<void> }[] = [];
  try {
    const aws: AwsSandbox = await startAwsSandbox({ roles: [] });
    opened.push(aws);
    const issuer: OidcIssuer = await startOidcIssuer();
    opened.push(issuer);
    const scratch = await createScratchDatabases();
    opened.push({ close: () => scratch.drop() });
    const stack = await startStack<AppRouter>({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: CONFIG,
      // The production default (15 s), not the tests' 1 s: the sweep is part of what a server runs.
      sweepIntervalSeconds: 15,
      env: { ...cpuProfilingEnv(), BENCH_PG_ADMIN_URL: scratch.pgUrl },
      ...builtApps(),
    });
    opened.push({
      close: async () => {
        // Every role any lease may have created (each attempt has its own), read before the stack's
        // database goes away with it.
        const grants = await stack.db.query<{ id: string; issue_attempts: number }>(
          "SELECT id, issue_attempts FROM grants",
        );
        const names = grants.flatMap((g) =>
          Array.from({ length: g.issue_attempts }, (_, i) => sqlRoleName(g.id, i + 1)),
        );
        await stack.stop();
        await dropRoles(scratch.pgUrl, names);
      },
    });
    log(`stack up: api ${stack.apiUrl}, scratch database ${scratch.pgName}`);
    const [own] = await stack.db.query<{ name: string }>("SELECT current_database() AS name");
    const leaseholdDatabase = own?.name ?? "";
    const processes: ProcessGroups = {
      api: () => childPidsIn(API_DIR),
      worker: async () => stack.workerPids(),
      "Leasehold's database": () => backendPids(scratch.pgUrl, leaseholdDatabase),
      "target database": () => backendPids(scratch.pgUrl, scratch.pgName),
    };
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = await issuer.mint(
      { sub: SUBJECT },
      { audience: "leasehold", iat: nowSeconds, exp: nowSeconds + 3600 },
    );
    return {
      stack,
      scratch,
      token,
      client: createLeaseholdClient({ url: stack.apiUrl, token: () => token }),
      processes,
      dropRoles: (names) => dropRoles(scratch.pgUrl, names),
      close: () => closeAll(opened),
    };
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}

/** Closes in reverse order of opening; every close is attempted, the first failure is rethrown. */
async function closeAll(opened: { close(): Promise<void> }[]): Promise<void> {
  let failure: unknown;
  for (const item of opened.reverse()) {
    try {
      await item.close();
    } catch (error) {
      failure ??= error;
    }
  }
  opened.length = 0;
  if (failure !== undefined) throw failure;
}
