import { describe, expect, it } from "vitest";
import type { HealthSnapshot } from "./health-snapshot.js";
import { declaredMetricNames } from "./metric-catalog.js";
import { metricsAuthorized } from "./metrics-token.js";
import { createAppMetrics } from "./prometheus-metrics.js";

const snapshot: HealthSnapshot = {
  grants: [{ state: "active", targetKind: "aws-role", count: 3 }],
  requests: [{ state: "pending", count: 2 }],
  revocationDebt: [{ backend: "arn:aws:iam::123456789012:role/ops", targetKind: "aws-role", count: 1 }],
  queueDepths: [{ queue: "grant-issue", depth: 4 }],
  rotations: [
    { rotation: "orders-app", lastSuccessAgeSeconds: 60, lastRunFailed: true, intervalSeconds: 86400 },
    { rotation: "never-ran", lastSuccessAgeSeconds: null, lastRunFailed: false, intervalSeconds: null },
  ],
};

describe("the app's metrics", () => {
  it("exposes every declared metric, with what was reported and the snapshot's gauges", async () => {
    const app = createAppMetrics({ app: "api", snapshot: async () => snapshot });
    app.metrics.grantIssued("aws-role", 0.2);
    app.metrics.sweepFinished(0.1, 2);
    app.metrics.rotationOutcome("orders-app", "failed");
    app.metrics.tokenRejected("expired");
    app.metrics.iamPolicyBudgetUsed("arn:aws:iam::123456789012:role/ops", 0.5);
    app.metrics.sealedUnderPreviousKeys("grant_mac", 4);
    app.feedAuditSinkLag(async () => [{ sink: "siem", events: 7, seconds: 12 }]);
    const { body, contentType } = await app.render();
    expect(contentType).toMatch(/^text\/plain/);
    for (const name of declaredMetricNames()) expect(body).toContain(`# TYPE ${name} `);
    expect(body).toContain('leasehold_grants{state="active",target_kind="aws-role",app="api"} 3');
    expect(body).toContain('leasehold_rotation_last_run_failed{rotation="orders-app",app="api"} 1');
    expect(body).not.toContain('leasehold_rotation_last_success_age_seconds{rotation="never-ran"');
    expect(body).toContain('leasehold_grant_issue_duration_seconds_count{app="api",provider="aws-role"} 1');
    expect(body).toContain('leasehold_sweep_overdue_grants_total{app="api"} 2');
    expect(body).toContain('leasehold_audit_sink_lag_events{sink="siem",app="api"} 7');
    expect(body).toContain('leasehold_sealed_under_previous_keys{kind="grant_mac",app="api"} 4');
    expect(body).toContain("process_cpu_user_seconds_total");
  });

  it("reads the snapshot once for all gauges of a scrape, and again only after the cache time", async () => {
    let reads = 0;
    let clock = 0;
    const app = createAppMetrics({
      app: "api",
      defaultMetrics: false,
      snapshot: async () => {
        reads++;
        return snapshot;
      },
      snapshotTtlMs: 1000,
      now: () => clock,
    });
    await app.render();
    await app.render();
    expect(reads).toBe(1);
    clock = 1000;
    await app.render();
    expect(reads).toBe(2);
  });

  it("a failed snapshot read counts a scrape error and still serves the rest", async () => {
    const app = createAppMetrics({
      app: "worker",
      defaultMetrics: false,
      snapshot: () => Promise.reject(new Error("database down")),
    });
    const { body } = await app.render();
    expect(body).toContain('leasehold_metrics_scrape_errors_total{app="worker"} 1');
    expect(body).not.toContain("database down");
  });

  it("folds label values beyond the bound into other", async () => {
    const app = createAppMetrics({ app: "api", defaultMetrics: false });
    for (let i = 0; i < 501; i++) app.metrics.rateLimited(`p${i}`);
    const { body } = await app.render();
    expect(body).toContain('leasehold_rate_limit_refusals_total{procedure="other",app="api"} 1');
    expect(body).not.toContain('procedure="p500"');
  });
});

describe("the metrics token", () => {
  it("lets every scrape in when none is set, and only its bearer when one is", () => {
    expect(metricsAuthorized(undefined, undefined)).toBe(true);
    expect(metricsAuthorized("s3cret-token", "Bearer s3cret-token")).toBe(true);
    expect(metricsAuthorized("s3cret-token", "Bearer s3cret-tokeN")).toBe(false);
    expect(metricsAuthorized("s3cret-token", undefined)).toBe(false);
    expect(metricsAuthorized("s3cret-token", "Basic s3cret-token")).toBe(false);
  });
});
