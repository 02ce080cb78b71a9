import type { Metrics, RotationOutcome, SlackDeliveryOutcome, TokenRejectionReason } from "@leasehold/domain";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { cachedReader, type HealthSnapshot, type SinkLag } from "./health-snapshot.js";
import { labelled } from "./labelled.js";
import { METRIC_CATALOG as M, type MetricSpec } from "./metric-catalog.js";

export type MetricsOptions = {
  /** The app, as the `app` default label: api, worker, slack-bot. */
  readonly app: string;
  /** prom-client's process metrics (CPU, memory, event loop lag, GC); on unless false. */
  readonly defaultMetrics?: boolean;
  /** The database and queue gauges; one app exports them (the API), the others leave this out. */
  readonly snapshot?: () => Promise<HealthSnapshot>;
  /** How long one snapshot serves later scrapes, in ms (default 5000). */
  readonly snapshotTtlMs?: number;
  readonly now?: () => number;
};

/** An app's metrics: the port its code reports through, and what /metrics serves. */
export type AppMetrics = {
  readonly metrics: Metrics;
  readonly registry: Registry;
  /** The worker's sweep interval, for the expiry-lateness alert. */
  setSweepInterval(seconds: number): void;
  /** Feeds the audit sink lag gauges (the sinks' exportStatus()); until called they are empty. */
  feedAuditSinkLag(read: () => Promise<readonly SinkLag[]>): void;
  /** The exposition text and its content type. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
};

export function createAppMetrics(options: MetricsOptions): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: options.app });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const now = options.now ?? Date.now;
  const ttlMs = options.snapshotTtlMs ?? 5000;
  const sweepInterval = gauge(registry, M.sweepInterval);
  // A failed read is counted where it fails, before any gauge's collect() sees it; the counter's own
  // collect() waits for this scrape's reads, so the scrape that failed already shows the failure.
  let failures = 0;
  const counted =
    <T>(read: () => Promise<T>) =>
    () =>
      read().catch((error: unknown) => {
        failures++;
        throw error;
      });
  const snapshot = options.snapshot && cachedReader(counted(options.snapshot), ttlMs, now);
  if (snapshot) snapshotGauges(registry, snapshot);
  let sinkLag: (() => Promise<readonly SinkLag[]>) | undefined;
  const lags = () => (sinkLag ? sinkLag() : Promise.resolve([]));
  sinkGauges(registry, lags);
  new Counter({
    name: M.scrapeErrors.name,
    help: M.scrapeErrors.help,
    registers: [registry],
    async collect() {
      await Promise.allSettled([snapshot?.(), lags()]);
      this.reset();
      this.inc(failures);
    },
  });
  return {
    metrics: reportingPort(registry),
    registry,
    setSweepInterval: (seconds) => sweepInterval.set(seconds),
    feedAuditSinkLag: (read) => {
      sinkLag = cachedReader(counted(read), ttlMs, now);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

/** The counters and histograms the code reports to; label children are made once per value. */
function reportingPort(registry: Registry): Metrics {
  const issued = labelled(histogram(registry, M.issueLatency));
  const revoked = labelled(histogram(registry, M.revokeLatency));
  const lateness = histogram(registry, M.expiryLateness);
  const sweep = histogram(registry, M.sweepDuration);
  const overdue = counter(registry, M.sweepOverdue);
  const failures = labelled(counter(registry, M.jobFailures));
  const slack = labelled(counter(registry, M.slackDeliveries));
  const tokens = labelled(counter(registry, M.tokenRejections));
  const limited = labelled(counter(registry, M.rateLimited));
  const rotations = labelled(counter(registry, M.rotations));
  const budget = labelled(gauge(registry, M.iamBudget));
  const underPrevious = labelled(gauge(registry, M.sealedUnderPreviousKeys));
  return {
    grantIssued: (provider, seconds) => issued(provider).observe(seconds),
    revokeCompleted: (provider, seconds) => revoked(provider).observe(seconds),
    expiryLateness: (seconds) => lateness.observe(Math.max(0, seconds)),
    sweepFinished: (seconds, found) => {
      sweep.observe(seconds);
      if (found > 0) overdue.inc(found);
    },
    jobFailed: (queue) => failures(queue).inc(),
    slackDelivery: (outcome: SlackDeliveryOutcome) => slack(outcome).inc(),
    tokenRejected: (reason: TokenRejectionReason) => tokens(reason).inc(),
    rateLimited: (procedure) => limited(procedure).inc(),
    rotationOutcome: (rotation, outcome: RotationOutcome) => rotations(rotation, outcome).inc(),
    iamPolicyBudgetUsed: (role, ratio) => budget(role).set(ratio),
    sealedUnderPreviousKeys: (kind, count) => underPrevious(kind).set(count),
  };
}

/** Gauges refilled from one snapshot at each scrape. */
function snapshotGauges(registry: Registry, read: () => Promise<HealthSnapshot>) {
  const refill = (spec: MetricSpec, fill: (g: Gauge, s: HealthSnapshot) => void) =>
    gauge(registry, spec, async function collect(this: Gauge) {
      try {
        const snapshot = await read();
        this.reset();
        fill(this, snapshot);
      } catch {
        // Counted in leasehold_metrics_scrape_errors_total rather than failing the scrape: the
        // process metrics still matter then, and the gauges keep their last values.
      }
    });
  refill(M.grants, (g, s) => {
    for (const r of s.grants) g.set({ state: r.state, target_kind: r.targetKind }, r.count);
  });
  refill(M.requests, (g, s) => {
    for (const r of s.requests) g.set({ state: r.state }, r.count);
  });
  refill(M.revocationDebt, (g, s) => {
    for (const r of s.revocationDebt) g.set({ backend: r.backend, target_kind: r.targetKind }, r.count);
  });
  refill(M.queueDepth, (g, s) => {
    for (const r of s.queueDepths) g.set({ queue: r.queue }, r.depth);
  });
  refill(M.rotationAge, (g, s) => {
    for (const r of s.rotations) {
      if (r.lastSuccessAgeSeconds !== null) g.set({ rotation: r.rotation }, r.lastSuccessAgeSeconds);
    }
  });
  refill(M.rotationFailing, (g, s) => {
    for (const r of s.rotations) g.set({ rotation: r.rotation }, r.lastRunFailed ? 1 : 0);
  });
  refill(M.rotationInterval, (g, s) => {
    for (const r of s.rotations)
      if (r.intervalSeconds !== null) g.set({ rotation: r.rotation }, r.intervalSeconds);
  });
}

function sinkGauges(registry: Registry, read: () => Promise<readonly SinkLag[]>) {
  const refill = (spec: MetricSpec, value: (lag: SinkLag) => number) =>
    gauge(registry, spec, async function collect(this: Gauge) {
      try {
        const lags = await read();
        this.reset();
        for (const lag of lags) this.set({ sink: lag.sink }, value(lag));
      } catch {
        // Counted in leasehold_metrics_scrape_errors_total.
      }
    });
  refill(M.sinkLagEvents, (lag) => lag.events);
  refill(M.sinkLagSeconds, (lag) => lag.seconds);
}

const counter = (registry: Registry, spec: MetricSpec) =>
  new Counter({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] });

const histogram = (registry: Registry, spec: MetricSpec) =>
  new Histogram({
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    ...(spec.buckets ? { buckets: [...spec.buckets] } : {}),
    registers: [registry],
  });

const gauge = (registry: Registry, spec: MetricSpec, collect?: (this: Gauge) => Promise<void>) =>
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
