import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileSink, fileAuditSinkSchema } from "@leasehold/audit-sinks";
import { createStore, type Database, openPostgres, type Store } from "@leasehold/db";
import type { Alert, AuditEvent, AuditEventInput, AuditSink } from "@leasehold/domain";
import { createTestDatabase } from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuditExportService } from "./audit-export-service.js";

const keys = { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) };
const silent = { info: () => {}, warn: () => {}, error: () => {} };

let db: Database & { url?: string };
let store: Store;
let dir: string;
let now: Date;
const clock = () => now;

beforeAll(async () => {
  db = await createTestDatabase("postgres");
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  // Each test gets sinks of its own names, so cursors from other tests do not matter.
  store = createStore(db, keys);
  dir = await mkdtemp(join(tmpdir(), "lh-export-"));
  now = new Date("2026-12-06T01:00:00Z");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Appends `count` events to the trail, as any use case would; returns their seqs. */
async function append(count: number): Promise<number[]> {
  const inputs = Array.from(
    { length: count },
    () =>
      ({
        actor: "system:worker",
        action: "grant.expired",
        subjectType: "grant",
        subjectId: randomUUID(),
        data: {},
      }) as unknown as AuditEventInput,
  );
  const events = await store.transaction((r) => r.audit.appendMany(inputs, now));
  return events.map((e) => e.seq);
}

const headSeq = () => store.read((r) => r.audit.latestSeq());

/** A receiver that records what it accepted; `fail` decides per call whether to refuse instead. */
function recordingSink(name: string, fail: (call: number) => boolean = () => false) {
  const batches: number[][] = [];
  let calls = 0;
  const sink: AuditSink = {
    name,
    async deliver(events: readonly AuditEvent[]) {
      calls += 1;
      if (fail(calls)) throw new Error(`${name} is down (call ${calls})`);
      batches.push(events.map((e) => e.seq));
    },
  };
  return { sink, batches, delivered: () => batches.flat() };
}

const fileSink = (name: string, path: string) =>
  createFileSink(fileAuditSinkSchema.parse({ name, kind: "file", path }), { clock });

const seqsInFile = async (path: string) =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("audit export", () => {
  it("delivers every event in order, in batches, and moves the cursor past them", async () => {
    await append(8);
    const head = await headSeq();
    const rec = recordingSink(`batches-${randomUUID().slice(0, 8)}`);
    const exporter = createAuditExportService({ store, sinks: [rec.sink], clock, log: silent, batchSize: 3 });
    const [round] = await exporter.exportAll();
    expect(round).toEqual({ sink: rec.sink.name, delivered: head });
    expect(rec.delivered()).toEqual(range(1, head));
    expect(rec.batches.every((b) => b.length <= 3)).toBe(true);
    expect((await store.read((r) => r.auditSinks.find(rec.sink.name)))?.seq).toBe(head);

    // Nothing new: nothing delivered. New events: only those.
    await exporter.exportAll();
    expect(rec.delivered()).toEqual(range(1, head));
    const added = await append(2);
    await exporter.exportAll();
    expect(rec.delivered()).toEqual(range(1, head + 2));
    expect(rec.batches.at(-1)).toEqual(added);
  });

  it("a failing sink keeps its cursor and records why; it resumes where it stopped, and others go on", async () => {
    await append(3);
    const down = recordingSink(`down-${randomUUID().slice(0, 8)}`, (call) => call <= 2);
    const up = recordingSink(`up-${randomUUID().slice(0, 8)}`);
    const exporter = createAuditExportService({ store, sinks: [down.sink, up.sink], clock, log: silent });
    const head = await headSeq();

    const rounds = await exporter.exportAll();
    expect(rounds.find((r) => r.sink === down.sink.name)?.error).toMatch(/is down/);
    expect(up.delivered()).toEqual(range(1, head));
    const [status] = await exporter.exportStatus();
    expect(status).toMatchObject({ sink: down.sink.name, seq: 0, lagEvents: head, failingSince: now });
    expect(status?.lastError).toMatch(/is down \(call 1\)/);

    now = new Date(now.getTime() + 60_000);
    await append(2);
    await exporter.exportAll();
    // The outage's start is kept from its first failure.
    expect((await exporter.exportStatus())[0]?.failingSince).toEqual(new Date("2026-12-06T01:00:00Z"));

    await exporter.exportAll();
    expect(down.delivered()).toEqual(range(1, head + 2));
    expect((await exporter.exportStatus())[0]).toMatchObject({
      lagEvents: 0,
      lastError: null,
      failingSince: null,
    });
  });

  it("reports the lag in events and in seconds of the oldest event not delivered", async () => {
    const rec = recordingSink(`lag-${randomUUID().slice(0, 8)}`, () => true);
    const exporter = createAuditExportService({ store, sinks: [rec.sink], clock, log: silent });
    const before = await headSeq();
    await append(4);
    now = new Date(now.getTime() + 90_000);
    const [status] = await exporter.exportStatus();
    expect(status?.lagEvents).toBe(before + 4);
    // The oldest undelivered event is the first of the trail; this test's are 90 s old at least.
    expect(status?.lagSeconds).toBeGreaterThanOrEqual(90);
  });

  it("raises one alert once a sink has failed longer than the threshold, and again only after it recovered", async () => {
    await append(1);
    let failing = true;
    const rec = recordingSink(`alert-${randomUUID().slice(0, 8)}`, () => failing);
    const sent: Alert[] = [];
    const exporter = createAuditExportService({
      store,
      sinks: [rec.sink],
      clock,
      log: silent,
      alertAfterSeconds: 300,
      alerts: { channel: "C0ALERTS", messenger: { alert: async (_channel, alert) => void sent.push(alert) } },
    });
    await exporter.exportAll();
    now = new Date(now.getTime() + 299_000);
    await exporter.exportAll();
    expect(sent).toEqual([]);
    now = new Date(now.getTime() + 1_000);
    await exporter.exportAll();
    await exporter.exportAll();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      kind: "audit-sink-failing",
      sink: rec.sink.name,
      failingSince: new Date("2026-12-06T01:00:00Z"),
      behindEvents: await headSeq(),
    });
    expect((sent[0] as { error: string }).error).toMatch(/is down/);

    failing = false;
    await exporter.exportAll();
    failing = true;
    await append(1);
    await exporter.exportAll();
    now = new Date(now.getTime() + 300_000);
    await exporter.exportAll();
    expect(sent).toHaveLength(2);
  });

  it("a crash between delivery and the cursor's commit does not write an event twice to the file", async () => {
    await append(5);
    const path = join(dir, "audit.jsonl");
    const name = `crash-${randomUUID().slice(0, 8)}`;
    const real = fileSink(name, path);
    // Delivers for real, then dies before the cursor moves (as a worker killed at that moment would).
    const crashing: AuditSink = {
      name,
      async deliver(events) {
        await real.deliver(events);
        throw new Error("worker killed after delivery");
      },
    };
    await createAuditExportService({ store, sinks: [crashing], clock, log: silent }).exportAll();
    expect((await store.read((r) => r.auditSinks.find(name)))?.seq).toBe(0);

    await append(2);
    await createAuditExportService({ store, sinks: [fileSink(name, path)], clock, log: silent }).exportAll();
    expect(await seqsInFile(path)).toEqual(range(1, await headSeq()));
  });

  it("two exporters at once (two replicas, two connection pools) deliver each event once", async () => {
    const other = openPostgres(db.url as string);
    try {
      const otherStore = createStore(other, keys);
      const name = `twice-${randomUUID().slice(0, 8)}`;
      const path = join(dir, "audit.jsonl");
      const a = recordingSink(name);
      const b = recordingSink(name);
      // Each replica's sink records what it was handed, then writes to the shared file.
      const through = (rec: ReturnType<typeof recordingSink>, file: AuditSink): AuditSink => ({
        name,
        async deliver(events) {
          await rec.sink.deliver(events);
          await file.deliver(events);
        },
      });
      const one = createAuditExportService({
        store,
        sinks: [through(a, fileSink(name, path))],
        clock,
        log: silent,
        batchSize: 7,
      });
      const two = createAuditExportService({
        store: otherStore,
        sinks: [through(b, fileSink(name, path))],
        clock,
        log: silent,
        batchSize: 7,
      });
      for (let round = 0; round < 5; round += 1) {
        await append(10);
        await Promise.all([one.exportAll(), two.exportAll(), one.exportAll(), two.exportAll()]);
      }
      const head = await headSeq();
      // Handed over once in all, between the two: the per-sink lock and the cursor, not the file's check.
      expect([...a.delivered(), ...b.delivered()].sort((x, y) => x - y)).toEqual(range(1, head));
      expect(await seqsInFile(path)).toEqual(range(1, head));
    } finally {
      await other.close();
    }
  });
});
