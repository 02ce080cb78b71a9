/**
 * Every metric Leasehold exports besides prom-client's default process metrics: name, kind, help and
 * label names. The dashboard, the alert rules and the README's table are checked against this list
 * (metric-catalog.test.ts), so a name changes here and nowhere else. Labels take bounded values only:
 * a state, a target kind, a queue, a rotation id or role from leasehold.yaml, a fixed reason.
 */
export type MetricKind = "counter" | "gauge" | "histogram";
export type MetricSpec = {
  readonly name: string;
  readonly kind: MetricKind;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram buckets, in seconds. */
  readonly buckets?: readonly number[];
};

/** Provider calls: a fast STS call to a slow Vault database engine. */
const CALL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** How late a grant ended: on time, within a sweep, or badly late. */
const LATENESS_BUCKETS = [0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600];

const spec = (
  name: string,
  kind: MetricKind,
  help: string,
  labels: readonly string[] = [],
  buckets?: readonly number[],
): MetricSpec => ({ name, kind, help, labels, ...(buckets ? { buckets } : {}) });

export const METRIC_CATALOG = {
  grants: spec("leasehold_grants", "gauge", "Grants by state and target kind.", ["state", "target_kind"]),
  requests: spec("leasehold_requests", "gauge", "Access requests by state.", ["state"]),
  revocationDebt: spec(
    "leasehold_revocation_debt_grants",
    "gauge",
    "Grants whose revocation gave up (the credential may still work), by backend: the role ARN or the Vault/SQL target id.",
    ["backend", "target_kind"],
  ),
  iamBudget: spec(
    "leasehold_iam_inline_policy_budget_ratio",
    "gauge",
    "Share (0..1) of an IAM role's inline-policy budget used after Leasehold last wrote its denials.",
    ["role"],
  ),
  sealedUnderPreviousKeys: spec(
    "leasehold_sealed_under_previous_keys",
    "gauge",
    "Values still sealed or MACed under a previous master key, by kind, as the worker's re-seal last counted them: at 0 everywhere, the previous keys can be dropped.",
    ["kind"],
  ),
  queueDepth: spec("leasehold_queue_depth", "gauge", "Jobs waiting, delayed or running, by queue.", [
    "queue",
  ]),
  jobFailures: spec("leasehold_queue_job_failures_total", "counter", "Failed job attempts, by queue.", [
    "queue",
  ]),
  issueLatency: spec(
    "leasehold_grant_issue_duration_seconds",
    "histogram",
    "Time the provider took to issue a credential, by provider.",
    ["provider"],
    CALL_BUCKETS,
  ),
  revokeLatency: spec(
    "leasehold_grant_revoke_duration_seconds",
    "histogram",
    "Time the provider took to revoke or expire a credential, by provider.",
    ["provider"],
    CALL_BUCKETS,
  ),
  expiryLateness: spec(
    "leasehold_expiry_lateness_seconds",
    "histogram",
    "How long after its deadline a grant was ended.",
    [],
    LATENESS_BUCKETS,
  ),
  sweepDuration: spec(
    "leasehold_sweep_duration_seconds",
    "histogram",
    "Duration of a reconciliation sweep.",
    [],
    CALL_BUCKETS,
  ),
  sweepOverdue: spec(
    "leasehold_sweep_overdue_grants_total",
    "counter",
    "Grants a sweep found past their deadline (a delayed job missed them).",
  ),
  sweepInterval: spec(
    "leasehold_sweep_interval_seconds",
    "gauge",
    "The worker's configured sweep interval (for the expiry-lateness alert).",
  ),
  slackDeliveries: spec(
    "leasehold_slack_deliveries_total",
    "counter",
    "Slack Web API calls by outcome: delivered, failed, rate_limited (429).",
    ["outcome"],
  ),
  rotations: spec("leasehold_rotations_total", "counter", "Rotation runs ended, by rotation and outcome.", [
    "rotation",
    "outcome",
  ]),
  rotationAge: spec(
    "leasehold_rotation_last_success_age_seconds",
    "gauge",
    "Seconds since a rotation last succeeded (absent until it has).",
    ["rotation"],
  ),
  rotationFailing: spec(
    "leasehold_rotation_last_run_failed",
    "gauge",
    "1 when a rotation's newest run failed, else 0.",
    ["rotation"],
  ),
  rotationInterval: spec(
    "leasehold_rotation_interval_seconds",
    "gauge",
    "Seconds between a rotation's scheduled runs (for the overdue alert).",
    ["rotation"],
  ),
  sinkLagEvents: spec(
    "leasehold_audit_sink_lag_events",
    "gauge",
    "Audit events not yet delivered to a sink.",
    ["sink"],
  ),
  sinkLagSeconds: spec(
    "leasehold_audit_sink_lag_seconds",
    "gauge",
    "Age of the oldest audit event not yet delivered to a sink.",
    ["sink"],
  ),
  tokenRejections: spec(
    "leasehold_token_rejections_total",
    "counter",
    "Bearer tokens the API refused, by reason.",
    ["reason"],
  ),
  rateLimited: spec(
    "leasehold_rate_limit_refusals_total",
    "counter",
    "Calls the API refused for their rate limit, by limit.",
    ["procedure"],
  ),
  scrapeErrors: spec(
    "leasehold_metrics_scrape_errors_total",
    "counter",
    "Scrapes whose database or queue read failed (the gauges then keep their last values).",
  ),
} as const satisfies Record<string, MetricSpec>;

/** Every declared name, as Prometheus exposes it (histograms also as _bucket, _sum and _count). */
export const declaredMetricNames = (): string[] => Object.values(METRIC_CATALOG).map((m) => m.name);
