import { reconcileOptionsFor } from "@leasehold/broker";
import { listenForMetrics } from "@leasehold/metrics";
import { createLogger, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import { startTracing } from "@leasehold/tracing";
import { readWorkerEnv } from "./env.js";
import { startWorker } from "./start-worker.js";

runMain(async () => {
  const env = readWorkerEnv();
  const log = createLogger("leasehold-worker", env.LOG_LEVEL);
  const stopTracing = startTracing({ serviceName: "leasehold-worker", env });
  const open = await openBrokerFromEnv(env, log, {
    reconcile: reconcileOptionsFor(env.LEASEHOLD_SWEEP_INTERVAL, env.LEASEHOLD_RELEASE_MARGIN),
    expiry: { providerCallsAtOnce: env.LEASEHOLD_WORKER_CONCURRENCY },
    slack: env.SLACK_BOT_TOKEN ? { token: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL } : undefined,
    metrics: { app: "worker", healthGauges: false },
    exportAudit: true,
  });
  open.metrics.setSweepInterval(env.LEASEHOLD_SWEEP_INTERVAL);
  const worker = await startWorker({
    useCases: { ...open.broker, notifications: open.notifications, auditExport: open.auditExport },
    queue: open.queue,
    ensureSchedules: open.ensureSchedules,
    concurrency: env.LEASEHOLD_WORKER_CONCURRENCY,
    lockMs: env.LEASEHOLD_JOB_LOCK_SECONDS * 1000,
    sweepIntervalMs: env.LEASEHOLD_SWEEP_INTERVAL * 1000,
    log,
    metrics: open.metrics.metrics,
  });
  const metrics =
    env.METRICS_PORT === undefined
      ? undefined
      : await listenForMetrics(open.metrics, {
          host: env.METRICS_HOST,
          port: env.METRICS_PORT,
          token: env.METRICS_TOKEN,
        });
  if (metrics) log.info({ address: metrics.address }, "metrics listening");
  onShutdown(log, async () => {
    await metrics?.close();
    await worker.close();
    await open.close();
    await stopTracing();
  });
});
