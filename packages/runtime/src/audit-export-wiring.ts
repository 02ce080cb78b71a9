import { createAuditSink } from "@leasehold/audit-sinks";
import {
  type AuditExportService,
  createAuditExportService,
  DEFAULT_SINK_ALERT_AFTER_SECONDS,
  type Logger,
} from "@leasehold/broker";
import {
  type AuditSinkConfig,
  ConfigError,
  type LeaseholdConfig,
  slackSettingsSchema,
} from "@leasehold/config";
import type { Store } from "@leasehold/db";
import type { AuditSink, Clock } from "@leasehold/domain";
import { createS3AuditSink } from "@leasehold/providers";
import { createSlackClient, createSlackIdentity, createSlackMessenger } from "@leasehold/slack";

/** How often the worker copies new audit events to the sinks. */
export const AUDIT_EXPORT_EVERY_MS = 1000;

/**
 * The sinks leasehold.yaml's `auditSinks` names, each with its secrets read from the variables it
 * names. A variable that is unset stops the process with a configuration error (exit 78) before
 * anything opens, rather than at the first event.
 */
export function auditSinksFrom(
  sinks: readonly AuditSinkConfig[],
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
): AuditSink[] {
  const problems: string[] = [];
  const built: AuditSink[] = [];
  for (const settings of sinks) {
    try {
      built.push(
        settings.kind === "s3"
          ? // The SDK's own credential chain; an S3-compatible endpoint (or a stand-in) from the environment.
            createS3AuditSink({
              ...settings,
              endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
              clock,
            })
          : createAuditSink(settings, { env, clock }),
      );
    } catch (error) {
      problems.push(`auditSinks "${settings.name}": ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError("the environment", problems);
  return built;
}

/**
 * The audit export use case over the configured sinks; undefined when there are none. Its outage
 * alert goes to `slack.alertsChannel` through a Slack client of its own, when Slack is configured.
 */
export function auditExportFor(
  config: LeaseholdConfig,
  sinks: readonly AuditSink[],
  deps: {
    readonly store: Store;
    readonly clock: Clock;
    readonly log: Logger;
    readonly slack: { readonly token: string; readonly apiUrl: string | undefined } | undefined;
  },
): AuditExportService | undefined {
  if (sinks.length === 0) return undefined;
  const settings = config.slack ?? slackSettingsSchema.parse({});
  const channel = settings.alertsChannel;
  const alerts =
    deps.slack && channel
      ? (() => {
          const client = createSlackClient(deps.slack);
          const identity = createSlackIdentity(settings, client);
          return { messenger: createSlackMessenger({ client, identity }), channel };
        })()
      : undefined;
  return createAuditExportService({
    store: deps.store,
    sinks,
    clock: deps.clock,
    log: deps.log,
    alerts,
    alertAfterSeconds: DEFAULT_SINK_ALERT_AFTER_SECONDS,
  });
}

/** Each sink's lag, read at scrape time from the export's own status (`leasehold_audit_sink_lag_*`). */
export function feedSinkLag(
  metrics: {
    feedAuditSinkLag(read: () => Promise<readonly { sink: string; events: number; seconds: number }[]>): void;
  },
  auditExport: Pick<AuditExportService, "exportStatus">,
): void {
  metrics.feedAuditSinkLag(async () =>
    (await auditExport.exportStatus()).map((s) => ({
      sink: s.sink,
      events: s.lagEvents,
      seconds: s.lagSeconds,
    })),
  );
}
