import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonRecord } from "../audit-record.js";
import { auditEvents } from "../test-events.js";
import { createFileSink } from "./file-sink.js";
import { fileAuditSinkSchema } from "./file-sink-schema.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lh-file-sink-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sinkAt = (path: string, extra: Record<string, unknown> = {}, clock = () => new Date()) =>
  createFileSink(fileAuditSinkSchema.parse({ name: "file", kind: "file", path, ...extra }), { clock });

const linesOf = async (path: string) =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every record of the current file and the rotated ones, oldest file first. */
const allSeqs = async () => {
  const files = (await readdir(dir)).filter((f) => f !== "audit.jsonl").sort();
  const seqs: unknown[] = [];
  for (const f of [...files, "audit.jsonl"]) {
    seqs.push(...(await linesOf(join(dir, f)).catch(() => [])).map((r) => r.seq));
  }
  return { files, seqs };
};

describe("the file audit sink", () => {
  it("writes one line per event, as the API renders it, creating the directory", async () => {
    const path = join(dir, "nested", "audit.jsonl");
    const events = auditEvents(1, 3);
    await sinkAt(path).deliver(events);
    expect(await linesOf(path)).toEqual(events.map((e) => JSON.parse(JSON.stringify(jsonRecord(e)))));
  });

  it("a repeated or overlapping delivery appends only the events after the file's last seq", async () => {
    const path = join(dir, "audit.jsonl");
    await sinkAt(path).deliver(auditEvents(1, 3));
    // Another instance (a restarted worker) knows nothing but the file.
    const again = sinkAt(path);
    await again.deliver(auditEvents(1, 3));
    await again.deliver(auditEvents(2, 4));
    expect((await linesOf(path)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("cuts off a final line a crash left without its newline, and writes that event again", async () => {
    const path = join(dir, "audit.jsonl");
    await sinkAt(path).deliver(auditEvents(1, 2));
    const whole = JSON.stringify(jsonRecord(auditEvents(3, 1)[0] as never));
    await writeFile(path, whole.slice(0, 40), { flag: "a" });
    await sinkAt(path).deliver(auditEvents(3, 2));
    expect((await linesOf(path)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it("refuses to append after a last line that is not a Leasehold record", async () => {
    const path = join(dir, "audit.jsonl");
    await writeFile(path, "hello\n");
    await expect(sinkAt(path).deliver(auditEvents(1, 1))).rejects.toThrow(/not a Leasehold audit record/);
    expect(await readFile(path, "utf8")).toBe("hello\n");
  });

  it("rotates by size into timestamped files, each event once, and resumes from the newest rotated file", async () => {
    const path = join(dir, "audit.jsonl");
    const sink = sinkAt(path, { rotate: { maxBytes: 1024 } });
    for (let from = 1; from <= 40; from += 4) await sink.deliver(auditEvents(from, 4));
    const { files, seqs } = await allSeqs();
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(f).toMatch(/^audit\.jsonl\.\d{8}T\d{9}Z(-\d+)?$/);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    // Just after a rotation the current file is gone; a redelivery must still see event 40.
    await rm(path);
    await sinkAt(path).deliver(auditEvents(37, 5));
    expect((await allSeqs()).seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
  });

  it("rotates by age on the clock it is given", async () => {
    const path = join(dir, "audit.jsonl");
    let now = new Date("2026-12-06T00:00:00Z");
    const sink = sinkAt(path, { rotate: { maxAge: "1h" } }, () => now);
    await sink.deliver(auditEvents(1, 2));
    now = new Date("2026-12-06T00:59:59Z");
    await sink.deliver(auditEvents(3, 1));
    expect((await allSeqs()).files).toEqual([]);
    now = new Date("2026-12-06T01:00:00Z");
    await sink.deliver(auditEvents(4, 1));
    const { files, seqs } = await allSeqs();
    expect(files).toEqual(["audit.jsonl.20261206T010000000Z"]);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect((await linesOf(path)).map((r) => r.seq)).toEqual([4]);
  });

  it("writes OCSF-shaped records that carry the seq, and drops repeats by it", async () => {
    const path = join(dir, "audit.jsonl");
    await sinkAt(path, { format: "ocsf" }).deliver(auditEvents(1, 2));
    await sinkAt(path, { format: "ocsf" }).deliver(auditEvents(1, 3));
    const records = await linesOf(path);
    expect(records.map((r) => (r.metadata as { sequence: number }).sequence)).toEqual([1, 2, 3]);
    expect(records[0]).toMatchObject({
      class_uid: 6003,
      actor: { user: { uid: "alice@example.com" } },
      api: { operation: "grant.issued" },
      unmapped: { seq: 1 },
    });
  });

  it("refuses to splice another history: the file's newest event differs from the trail's of that seq", async () => {
    const path = join(dir, "audit.jsonl");
    await sinkAt(path).deliver(auditEvents(1, 3));
    const before = await readFile(path, "utf8");
    const rewritten = auditEvents(2, 3).map((e) => (e.seq === 3 ? { ...e, hash: "f".repeat(64) } : e));
    await expect(sinkAt(path).deliver(rewritten)).rejects.toThrow(/event 3 .* differs from the trail's/);
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("accepts only an absolute path", () => {
    expect(fileAuditSinkSchema.safeParse({ name: "f", kind: "file", path: "audit.jsonl" }).success).toBe(
      false,
    );
  });
});
