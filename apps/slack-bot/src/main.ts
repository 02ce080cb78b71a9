import { listenForMetrics } from "@leasehold/metrics";
import { createLogger, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import { startTracing } from "@leasehold/tracing";
import { readBotEnv } from "./env.js";
import { startSlackBot } from "./start-slack-bot.js";

runMain(async () => {
  const env = readBotEnv();
  const log = createLogger("leasehold-slack-bot", env.LOG_LEVEL);
  const stopTracing = startTracing({ serviceName: "leasehold-slack-bot", env });
  const open = await openBrokerFromEnv(env, log, { metrics: { app: "slack-bot", healthGauges: false } });
  const bot = await startSlackBot({
    useCases: open.broker,
    settings: open.config.slack,
    connection: env.slack,
    apiUrl: env.SLACK_API_URL,
    host: env.SLACK_BOT_HOST,
    port: env.SLACK_BOT_PORT,
    log,
    replayStore: open.shortLivedState,
    consoleUrl: open.config.publicUrl,
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
    await bot.close();
    await open.close();
    await stopTracing();
  });
});
