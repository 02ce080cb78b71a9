import { createLogger, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import { startTracing } from "@leasehold/tracing";
import { consoleLoginSettings } from "./console-login-settings.js";
import { readApiEnv } from "./env.js";
import { startApi } from "./start-api.js";

runMain(async () => {
  const env = readApiEnv();
  const log = createLogger("leasehold-api", env.LOG_LEVEL);
  const stopTracing = startTracing({ serviceName: "leasehold-api", env });
  // The API exports the gauges read from the database and queues: it always serves /metrics.
  const open = await openBrokerFromEnv(env, log, { metrics: { app: "api", healthGauges: true } });
  const api = await startApi({
    useCases: open.broker,
    readiness: open.readiness,
    identityProviders: open.config.identityProviders,
    host: env.HOST,
    port: env.PORT,
    log,
    rateLimits: { store: open.shortLivedState, rates: open.config.limits.rates },
    pagerDutyWebhooks:
      open.pagerDutyWebhookSecrets.length > 0
        ? {
            secrets: open.pagerDutyWebhookSecrets,
            incidentResolved: (incidentId) => open.broker.grants.incidentResolved("pagerduty", incidentId),
          }
        : undefined,
    metrics: { port: open.metrics.metrics, render: open.metrics.render, token: env.METRICS_TOKEN },
    ...consoleLoginSettings(open.config, env.targetEnv),
  });
  onShutdown(log, async () => {
    await api.close();
    await open.close();
    await stopTracing();
  });
});
