import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_FLAGS } from "./bench-options.js";
import type { Bench, BenchResult } from "./bench-result.js";
import { BENCHES } from "./benches.js";
import { renderTable } from "./report.js";

/**
 * `pnpm bench [--large] [P1 P2 …]`: runs the benchmarks (all by default) one after another, prints a table of
 * figures beside their baselines and targets, and writes the same as JSON under bench-results/.
 * Exit code 0 even when a target is missed: the figures are the output, not a verdict.
 */
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

const flags: readonly string[] = BENCH_FLAGS;
const wanted = process.argv
  .slice(2)
  .filter((a) => !flags.includes(a))
  .map((a) => a.toUpperCase());
const unknown = wanted.filter((id) => !BENCHES.some((b) => b.id === id));
if (unknown.length > 0) {
  log(`unknown benchmark ${unknown.join(", ")}; choose from ${BENCHES.map((b) => b.id).join(", ")}`);
  process.exit(2);
}
const selected: Bench[] = wanted.length === 0 ? [...BENCHES] : BENCHES.filter((b) => wanted.includes(b.id));

const results: BenchResult[] = [];
for (const bench of selected) {
  log(`\n== ${bench.id} ${bench.title}`);
  results.push(await bench.run((line) => log(`   ${line}`)));
}

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverage: loadavg(),
};
process.stdout.write(`\n${renderTable(results)}\n`);
const dir = join(repoRoot, "bench-results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${new Date().toISOString().replaceAll(":", "-")}.json`);
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: ${file}\n`);
