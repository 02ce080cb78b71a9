import { createLogger, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import { startTracing } from "@leasehold/tracing";
import { readApiEnv } from "./env.js";
import { startApi } from "./start-api.js";

runMain(async () => {
  const env = readApiEnv();
  const log = createLogger("leasehold-api", env.LOG_LEVEL);
  const stopTracing = startTracing({ serviceName: "leasehold-api", env });
  const open = await openBrokerFromEnv(env, log);
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
  });
  onShutdown(log, async () => {
    await api.close();
    await open.close();
    await stopTracing();
  });
});
