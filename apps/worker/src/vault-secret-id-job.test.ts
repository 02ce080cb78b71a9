import { randomUUID } from "node:crypto";
import type { ReconcileReport } from "@leasehold/broker";
import { createQueueProducer, type QueueConnection } from "@leasehold/queue";
import { describe, expect, it } from "vitest";
import { startWorker, type WorkerUseCases } from "./start-worker.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const silent = { info() {}, warn() {}, error() {} };

const waitFor = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe("the worker's Vault secret id job", () => {
  it("runs the rotation when its scheduler's job arrives, telling it that retries remain", async () => {
    const attempts: boolean[] = [];
    const useCases = {
      grants: {},
      rotations: { resumeStalled: async () => 0 },
      vaultSecretId: {
        rotate: async (attempt: { isLast: boolean }) => {
          attempts.push(attempt.isLast);
          return "rotated" as const;
        },
      },
      reconcile: { run: async () => ({ overdue: 0 }) as ReconcileReport },
      drift: { run: async () => ({}) },
      audit: { checkpoint: async () => undefined, checkpointKeyId: "0123456789abcdef" },
      notifications: undefined,
    } as unknown as WorkerUseCases;
    const queue: QueueConnection = { backend: "redis", redisUrl, prefix: `lh-test-${randomUUID()}` };
    const worker = await startWorker({
      useCases,
      queue,
      ensureSchedules: async () => {},
      concurrency: 1,
      lockMs: 30_000,
      sweepIntervalMs: 60_000,
      log: silent,
    });
    const producer = createQueueProducer(queue);
    try {
      // As the cron scheduler adds it (one job per tick across workers).
      await producer.add("vaultSecretIdRotate", {}, "tick-1");
      await waitFor(() => attempts.length >= 1);
      expect(attempts).toEqual([false]);
    } finally {
      await producer.close();
      await worker.close();
    }
  });
});
