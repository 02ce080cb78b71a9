/**
 * Reads the worker's pino log (one JSON object per line) for what the grants table cannot say: how
 * many grants the reconciliation sweep expired, as opposed to their delayed jobs (both write the same
 * audit event). Lines that are not JSON (another process's output, a cut chunk) are skipped.
 */
export function grantsExpiredBySweep(log: string): number {
  let total = 0;
  for (const line of log.split("\n")) {
    if (!line.includes("reconciliation sweep acted")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; expired?: unknown };
      if (entry.msg === "reconciliation sweep acted" && typeof entry.expired === "number") {
        total += entry.expired;
      }
    } catch {
      // not a whole log line
    }
  }
  return total;
}
