import { generateSqlPassword, scramSha256Verifier } from "@leasehold/providers";

/** What computing one SCRAM-SHA-256 verifier (4096 iterations) costs Leasehold's worker. */
export type VerifierCost = {
  /** Wall time of one verifier, one at a time, in microseconds. */
  readonly wallUs: number;
  /** Wall time per verifier with `concurrency` in flight (libuv's pool runs PBKDF2 on 4 threads). */
  readonly concurrentWallUs: number;
  readonly concurrency: number;
  /** Event-loop time per verifier (the three HMAC/SHA-256 steps and the callbacks), in microseconds. */
  readonly eventLoopUs: number;
};

/**
 * Times `count` verifiers one at a time, then `count` with `concurrency` in flight, measuring the
 * event loop's active time (performance.eventLoopUtilization) over the first pass.
 */
export async function measureVerifierCost(count: number, concurrency: number): Promise<VerifierCost> {
  const passwords = Array.from({ length: count }, () => generateSqlPassword());
  for (const password of passwords.slice(0, 20)) await scramSha256Verifier(password); // warm-up
  const loopBefore = performance.eventLoopUtilization();
  let started = performance.now();
  for (const password of passwords) await scramSha256Verifier(password);
  const wallMs = performance.now() - started;
  const loop = performance.eventLoopUtilization(loopBefore);
  started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await scramSha256Verifier(passwords[next++] ?? "");
    }),
  );
  const concurrentMs = performance.now() - started;
  return {
    wallUs: (wallMs * 1000) / count,
    concurrentWallUs: (concurrentMs * 1000) / count,
    concurrency,
    eventLoopUs: (loop.active * 1000) / count,
  };
}
