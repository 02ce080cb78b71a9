import { randomUUID } from "node:crypto";
import type { DriftReport, ReconcileReport } from "@leasehold/broker";
import { describe, expect, it } from "vitest";
import { startWorker, type WorkerUseCases } from "./start-worker.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const silent = { info() {}, warn() {}, error() {} };

const waitFor = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe("the worker's sweep", () => {
  it("runs the drift scan as a step of its own: at start, and a failing scan never stops the grant sweep", async () => {
    const ran: string[] = [];
    const infos: { fields: Record<string, unknown>; message: string }[] = [];
    const report: ReconcileReport = {
      requestsExpired: 0,
      requestsEscalated: 0,
      incidentGrantsEnded: 0,
      expired: 0,
      overdue: 0,
      expiryFailures: 0,
      issuesEnqueued: 0,
      leasesAbandoned: 0,
      revocationsEnqueued: 0,
      enqueueFailures: 0,
      released: 0,
      releaseFailures: 0,
    };
    const useCases: WorkerUseCases = {
      grants: {
        issue: async () => "issued",
        expire: async () => "expired",
        finishRevoke: async () => "revoked",
      } as unknown as WorkerUseCases["grants"],
      rotations: {
        tick: async () => 0,
        start: async () => undefined,
        execute: async () => undefined,
        resumeStalled: async () => 0,
      } as unknown as WorkerUseCases["rotations"],
      reconcile: {
        run: async () => {
          ran.push("reconcile");
          return report;
        },
        expireOverdue: async () => {
          ran.push("overdue");
          return { expired: 0, overdue: 0 };
        },
      },
      drift: {
        run: async (): Promise<DriftReport> => {
          ran.push("drift");
          throw new Error("IAM unreachable");
        },
      },
      audit: {
        checkpoint: async () => {
          ran.push("audit-checkpoint");
          return undefined;
        },
        checkpointKeyId: "0123456789abcdef",
      },
      reseal: {
        run: async () => {
          ran.push("reseal");
          return { read: 0, unmoved: [], behind: false };
        },
      },
      notifications: undefined,
    };
    const worker = await startWorker({
      useCases,
      queue: { backend: "redis", redisUrl, prefix: `lh-test-${randomUUID()}` },
      ensureSchedules: async () => {},
      concurrency: 1,
      lockMs: 30_000,
      sweepIntervalMs: 50,
      driftIntervalMs: 60_000,
      log: { ...silent, info: (fields, message) => infos.push({ fields, message }) },
    });
    try {
      await waitFor(() => ran.filter((r) => r === "reconcile").length >= 3);
      // The grant sweep kept its own cadence while the drift scan failed and waits its longer interval.
      expect(ran.filter((r) => r === "reconcile").length).toBeGreaterThanOrEqual(3);
      expect(ran.filter((r) => r === "drift")).toEqual(["drift"]);
      // The checkpoint step runs at start and on its own few-second timer, not the sweep's 50 ms.
      expect(ran.filter((r) => r === "audit-checkpoint")).toEqual(["audit-checkpoint"]);
      expect(ran.filter((r) => r === "reseal")).toEqual(["reseal"]);
      // So does the check for grants whose expiry jobs were lost (every second).
      expect(ran).toContain("overdue");
      // Auditors match checkpoints to the key the worker names at start.
      expect(infos).toContainEqual({
        fields: expect.objectContaining({ auditCheckpointKeyId: "0123456789abcdef" }),
        message: "leasehold worker running",
      });
    } finally {
      await worker.close();
    }
  });
});
