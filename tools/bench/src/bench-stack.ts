import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppRouter } from "@leasehold/api/router";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import {
  type Stack as KitStack,
  type Person,
  ROLE_ARN,
  type StackOptions,
  startStack,
  TEST_CONFIG,
  tokenFor,
} from "@leasehold/test-kit";
import { cpuProfilingEnv } from "./cpu-profiling.js";

type Stack = KitStack<AppRouter>;

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const APPS = ["api", "worker", "slack-bot"] as const;
let built = false;

/**
 * The kit's option to run the apps' builds (`node dist/main.js`): the figures are those of what is
 * deployed, not of tsx. The first call builds the workspace (`pnpm build`: turbo, which rebuilds only
 * what changed), so a figure is never taken on a stale build; a failed build or a missing
 * `dist/main.js` ends the benchmark with what to fix.
 */
export function builtApps(): { built: true } {
  if (!built) {
    const build = spawnSync("pnpm", ["build"], { cwd: repoRoot, encoding: "utf8" });
    if (build.status !== 0) {
      const output = `${build.stdout ?? ""}${build.stderr ?? ""}`.split("\n").slice(-40).join("\n");
      throw new Error(
        `pnpm build failed (exit ${build.status ?? build.error?.message}); the benchmarks run the built apps:\n${output}`,
      );
    }
    const missing = APPS.map((app) => join(repoRoot, "apps", app, "dist", "main.js")).filter(
      (file) => !existsSync(file),
    );
    if (missing.length > 0) throw new Error(`pnpm build left no ${missing.join(", ")}`);
    built = true;
  }
  return { built: true };
}

/**
 * The worker's V8 heap limit, as infra/Dockerfile's worker stage sets it (NODE_OPTIONS), so that the
 * worker's memory figures are those of the image.
 */
export const WORKER_NODE_OPTIONS = "--max-old-space-size=128";

/** A tRPC client of the stack's API, as one person. */
export type ApiClient = ReturnType<Stack["client"]>;

/**
 * The real API and worker processes with the AWS stand-in and a test OIDC issuer, configured with the
 * end-to-end tests' leasehold.yaml (one aws-role target, `prod-readonly`, two approvals from `sre`).
 * The apps run from their builds (see builtApps); with BENCH_CPU_PROFILE_DIR set they write CPU profiles.
 */
export type BenchStack = {
  readonly stack: Stack;
  readonly sandbox: AwsSandbox;
  readonly issuer: OidcIssuer;
  /** A client with a fresh token (valid five minutes) for `who`. */
  clientAs(who: Person): Promise<ApiClient>;
  /** Stops the processes, drops the stack's database, deletes its Redis keys, closes the stand-ins. */
  stop(): Promise<void>;
};

export async function startBenchStack(
  options: Omit<StackOptions, "sandbox" | "issuerUrl" | "config">,
): Promise<BenchStack> {
  // Sessions of 15 minutes or more outlive every benchmark, so the stand-in's clock needs no tricks.
  const sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }] });
  let issuer: OidcIssuer | undefined;
  const sinkDir = mkdtempSync(join(tmpdir(), "leasehold-bench-"));
  try {
    issuer = await startOidcIssuer();
    const env = { ...cpuProfilingEnv(), ...options.env };
    const workerNodeOptions = [env.NODE_OPTIONS, WORKER_NODE_OPTIONS].filter(Boolean).join(" ");
    const stack = await startStack<AppRouter>({
      ...options,
      env,
      ...builtApps(),
      appEnv: { ...options.appEnv, worker: { ...options.appEnv?.worker, NODE_OPTIONS: workerNodeOptions } },
      sandbox,
      issuerUrl: issuer.url,
      // A benchmark measures throughput: the caps and rate limits must not be what it measures. The
      // worker copies the audit trail to a file sink as it runs, as a production worker with a sink does.
      config: `${TEST_CONFIG}limits: { pendingRequests: 1000, activeGrants: 1000, rates: { requests: 100000, revocations: 100000 } }
auditSinks:
  - { name: bench-file, kind: file, path: ${join(sinkDir, "audit.jsonl")} }
`,
    });
    const started = issuer;
    return {
      stack,
      sandbox,
      issuer: started,
      clientAs: async (who) => stack.client(await tokenFor(started, who)),
      async stop() {
        await stack.stop();
        await started.close();
        await sandbox.close();
        rmSync(sinkDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await issuer?.close();
    await sandbox.close();
    rmSync(sinkDir, { recursive: true, force: true });
    throw error;
  }
}
