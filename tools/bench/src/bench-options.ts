/**
 * Options of `pnpm bench` beyond the figures' ids. `--large` runs the expiry figures (P3, P4) at
 * production scale: 1,000,000 scheduled expiries, 100,000 of them due within one minute, on Redis only
 * (BullMQ's PostgreSQL backend takes jobs at a few hundred a second: a million would take most of an hour).
 */
export const BENCH_FLAGS = ["--large"] as const;

export const isLargeRun = (argv: readonly string[] = process.argv): boolean => argv.includes("--large");
