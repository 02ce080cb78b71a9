import { reconcileOptionsFor } from "@leasehold/broker";
import { createLogger, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import { readWorkerEnv } from "./env.js";
import { startWorker } from "./start-worker.js";

runMain(async () => {
  const env = readWorkerEnv();
  const log = createLogger("leasehold-worker", env.LOG_LEVEL);
  const open = await openBrokerFromEnv(env, log, {
    reconcile: reconcileOptionsFor(env.LEASEHOLD_SWEEP_INTERVAL, env.LEASEHOLD_RELEASE_MARGIN),
    expiry: { providerCallsAtOnce: env.LEASEHOLD_WORKER_CONCURRENCY },
    slack: env.SLACK_BOT_TOKEN ? { token: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL } : undefined,
    exportAudit: true,
  });
  const worker = await startWorker({
    useCases: { ...open.broker, notifications: open.notifications, auditExport: open.auditExport },
    queue: open.queue,
    ensureSchedules: open.ensureSchedules,
    concurrency: env.LEASEHOLD_WORKER_CONCURRENCY,
    lockMs: env.LEASEHOLD_JOB_LOCK_SECONDS * 1000,
    sweepIntervalMs: env.LEASEHOLD_SWEEP_INTERVAL * 1000,
    log,
  });
  onShutdown(log, async () => {
    await worker.close();
    await open.close();
  });
});
