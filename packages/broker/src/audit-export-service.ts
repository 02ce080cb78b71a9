import type { AuditSinkCursor, Store } from "@leasehold/db";
import type { AuditEvent, AuditSink, Clock } from "@leasehold/domain";
import type { Logger } from "./broker-deps.js";
import { forEachConcurrently } from "./concurrently.js";
import type { Messenger } from "./messenger.js";

/** Events read and delivered at a time (one `deliver` call, one cursor commit). */
export const AUDIT_EXPORT_BATCH = 500;
/** Batches per sink per round, so a long backlog does not hold one sink's lock for minutes. */
const BATCHES_PER_ROUND = 20;
/** Sinks exported at once: each holds a database connection for its lock while it delivers. */
const SINKS_AT_ONCE = 2;
/** A sink failing this long raises its alert (10 minutes, unless set otherwise). */
export const DEFAULT_SINK_ALERT_AFTER_SECONDS = 600;

export type AuditExportDeps = {
  readonly store: Store;
  readonly sinks: readonly AuditSink[];
  readonly clock: Clock;
  readonly log: Logger;
  /** Where a sink's outage is announced; omitted: only logged and visible in `exportStatus`. */
  readonly alerts?: { readonly messenger: Pick<Messenger, "alert">; readonly channel: string } | undefined;
  readonly alertAfterSeconds?: number;
  readonly batchSize?: number;
};

/** One sink's round: how many events it accepted, and why it stopped early if it did. */
export type SinkRound = { readonly sink: string; readonly delivered: number; readonly error?: string };

/** One sink's standing, for /metrics and the CLI: how far behind the trail it is, and why. */
export type SinkStatus = {
  readonly sink: string;
  readonly seq: number;
  /** Events in the trail after the sink's cursor. */
  readonly lagEvents: number;
  /** Age of the oldest event the sink does not hold yet; 0 when it holds everything. */
  readonly lagSeconds: number;
  readonly lastError: string | null;
  readonly failingSince: Date | null;
};

/** The events of `events` that follow `after` without a gap: a sink is never handed a hole. */
const consecutiveAfter = (after: number, events: readonly AuditEvent[]): AuditEvent[] => {
  const run: AuditEvent[] = [];
  for (const event of events) {
    if (event.seq !== after + run.length + 1) break;
    run.push(event);
  }
  return run;
};

/** Where each sink stands against the trail's head at `now`. */
async function sinkStatuses(store: Store, sinks: readonly AuditSink[], now: Date): Promise<SinkStatus[]> {
  const head = await store.read((r) => r.audit.latestSeq());
  const cursors = new Map(
    (await store.read((r) => r.auditSinks.list())).map((c): [string, AuditSinkCursor] => [c.sink, c]),
  );
  const statuses: SinkStatus[] = [];
  for (const { name } of sinks) {
    const cursor = cursors.get(name);
    const seq = cursor?.seq ?? 0;
    const [oldest] = await store.read((r) => r.audit.list({ afterSeq: seq, limit: 1 }));
    statuses.push({
      sink: name,
      seq,
      lagEvents: Math.max(0, head - seq),
      lagSeconds: oldest ? Math.max(0, (now.getTime() - oldest.at.getTime()) / 1000) : 0,
      lastError: cursor?.lastError ?? null,
      failingSince: cursor?.failingSince ?? null,
    });
  }
  return statuses;
}

/**
 * Copies the audit trail to the configured sinks (the worker, every second). Each sink is exported
 * under a lock of its own (`audit-sink:<name>`), so replicas never deliver to one sink at once: read
 * the events after its cursor, `deliver`, then move the cursor in a short transaction. A failure is
 * recorded on the cursor and ends that sink's round; the next round starts again from the cursor, so
 * nothing is skipped, and nothing here touches grants. Delivery is at least once; a crash between
 * `deliver` and the cursor's commit hands the same events over again, which a file sink drops and
 * other receivers drop by `seq`.
 */
export function createAuditExportService(deps: AuditExportDeps) {
  const { store, clock, log, alerts } = deps;
  const batchSize = Math.min(deps.batchSize ?? AUDIT_EXPORT_BATCH, AUDIT_EXPORT_BATCH);
  const alertAfterMs = (deps.alertAfterSeconds ?? DEFAULT_SINK_ALERT_AFTER_SECONDS) * 1000;

  /** Raises the outage's one alert once it has lasted long enough; a failed send is tried next round. */
  const alertIfDue = async (locked: Store, sink: string) => {
    if (!alerts) return;
    const cursor = await locked.read((r) => r.auditSinks.find(sink));
    if (!cursor?.failingSince || cursor.alertedAt) return;
    if (clock().getTime() - cursor.failingSince.getTime() < alertAfterMs) return;
    const head = await locked.read((r) => r.audit.latestSeq());
    try {
      await alerts.messenger.alert(alerts.channel, {
        kind: "audit-sink-failing",
        sink,
        failingSince: cursor.failingSince,
        error: cursor.lastError ?? "unknown error",
        behindEvents: Math.max(0, head - cursor.seq),
      });
    } catch (error) {
      log.warn(
        { sink, error: (error as Error).message },
        "could not send the audit sink's alert; trying again",
      );
      return;
    }
    await locked.transaction((r) => r.auditSinks.markAlerted(sink, clock()));
  };

  const exportSink = async (sink: AuditSink, locked: Store): Promise<SinkRound> => {
    const cursor = await locked.read((r) => r.auditSinks.find(sink.name));
    let after = cursor?.seq ?? 0;
    let delivered = 0;
    for (let batch = 0; batch < BATCHES_PER_ROUND; batch += 1) {
      const read = await locked.read((r) => r.audit.list({ afterSeq: after, limit: batchSize }));
      const events = consecutiveAfter(after, read);
      try {
        if (read.length > 0 && events.length === 0) {
          throw new Error(`event ${after + 1} is missing from the audit trail; run leasehold audit verify`);
        }
        if (events.length === 0) break;
        await sink.deliver(events);
      } catch (error) {
        const message = (error as Error).message;
        // Once per outage and per new error, not every second the outage lasts.
        if (!cursor?.failingSince || cursor.lastError !== message) {
          log.warn({ sink: sink.name, afterSeq: after, error: message }, "audit sink delivery failed");
        }
        await locked.transaction((r) => r.auditSinks.recordFailure(sink.name, message, clock()));
        await alertIfDue(locked, sink.name);
        return { sink: sink.name, delivered, error: message };
      }
      const last = events.at(-1)?.seq ?? after;
      await locked.transaction((r) => r.auditSinks.advance(sink.name, last, clock()));
      delivered += events.length;
      after = last;
      if (read.length < batchSize) break;
    }
    return { sink: sink.name, delivered };
  };

  return {
    /** One round over every sink; a failing sink ends its own round only. */
    async exportAll(): Promise<SinkRound[]> {
      const rounds: SinkRound[] = [];
      await forEachConcurrently(deps.sinks, SINKS_AT_ONCE, async (sink) => {
        rounds.push(await store.exclusive(`audit-sink:${sink.name}`, (locked) => exportSink(sink, locked)));
      });
      return rounds;
    },

    /** Each configured sink's lag and outage, for /metrics and the CLI. */
    exportStatus: (): Promise<SinkStatus[]> => sinkStatuses(store, deps.sinks, clock()),

    async close(): Promise<void> {
      await Promise.all(deps.sinks.map((sink) => sink.close?.()));
    },
  };
}

export type AuditExportService = ReturnType<typeof createAuditExportService>;
