import { fileURLToPath } from "node:url";

const PRELOAD = fileURLToPath(new URL("./cpu-profile-preload.mjs", import.meta.url));

/**
 * With BENCH_CPU_PROFILE_DIR set, the environment that makes each app process of a stack write a V8 CPU
 * profile there when it exits (cpu-profile-preload.mjs); without it, none.
 */
export function cpuProfilingEnv(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  return dir ? { BENCH_CPU_PROFILE_DIR: dir, NODE_OPTIONS: `--import ${PRELOAD}` } : {};
}
