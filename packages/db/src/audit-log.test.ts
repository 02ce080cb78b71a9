import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type HeadRow, headKey, headMac } from "./audit-head.js";
import { auditLog } from "./audit-log.js";
import type { Database } from "./database.js";
import type { Keyring } from "./keyring.js";
import { createStore } from "./store.js";
import { createTestDatabase, dialects } from "./test-database.js";

const key = Buffer.alloc(32, 1);
/** The ring createStore makes of `keyId: "k1"` and this audit key. */
const ringOf = (key: Buffer): Keyring => ({ current: { id: "k1", key }, previous: [] });
const at = new Date("2026-11-23T10:00:00.000Z");

describe.each(dialects)("audit trail on %s", (dialect) => {
  let db: Database;
  beforeEach(async () => {
    db = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  const appendMany = async (count: number) => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    for (let i = 0; i < count; i++) {
      await store.transaction((repos) =>
        repos.audit.append(
          {
            actor: "alice@example.com",
            action: "grant.issued",
            subjectType: "grant",
            subjectId: randomUUID(),
            data: { expiresAt: at.toISOString(), attempt: i, reference: { b: 1, a: [1, "x"] } },
          },
          new Date(at.getTime() + i * 1000),
        ),
      );
    }
  };

  /** What an attacker with database access does first: switch off the append-only trigger. */
  const tamper = (sql: string) =>
    db.transaction(async (tx) => {
      await tx.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
      await tx.query(sql);
      await tx.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
    });

  const verify = () => auditLog(db, ringOf(key)).verify();

  it("an untouched chain verifies", async () => {
    await appendMany(5);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, events: 5, problems: [] });
    expect(result.head.seq).toBe(5);
  });

  it("refuses updates, deletes and truncation", async () => {
    await appendMany(1);
    await expect(db.query("UPDATE audit_events SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM audit_events")).rejects.toThrow(/append-only/);
    await expect(db.query("TRUNCATE audit_events")).rejects.toThrow(/append-only/);
  });

  it("finds an edited event", async () => {
    await appendMany(4);
    await tamper(`UPDATE audit_events SET data = '{"n": 99}' WHERE seq = 2`);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ seq: 2, problem: expect.stringMatching(/edited/) }]);
  });

  it("finds a deleted event", async () => {
    await appendMany(4);
    await tamper("DELETE FROM audit_events WHERE seq = 2");
    const result = await verify();
    expect(result.problems.map((p) => p.seq)).toContain(3);
    expect(result.problems.map((p) => p.problem).join()).toMatch(/missing/);
  });

  it("finds reordered events", async () => {
    await appendMany(4);
    // Swap the contents of events 2 and 3, keeping each one's own hash.
    await tamper(`UPDATE audit_events a SET at = b.at, actor = b.actor, action = b.action, subject_type = b.subject_type,
        subject_id = b.subject_id, data = b.data, prev_hash = b.prev_hash, hash = b.hash
      FROM audit_events b WHERE (a.seq = 2 AND b.seq = 3) OR (a.seq = 3 AND b.seq = 2)`);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toEqual(expect.arrayContaining([2, 3]));
  });

  it("finds the newest events deleted", async () => {
    await appendMany(4);
    await tamper("DELETE FROM audit_events WHERE seq = 4");
    const result = await verify();
    expect(result.problems).toEqual([{ seq: 4, problem: expect.stringMatching(/trail ends at 3/) }]);
  });

  it("against a head recorded outside the database: finds the newest events deleted with the head rewound", async () => {
    await appendMany(3);
    // A database superuser who read the head row (MAC included) when it named event 3 …
    const [third] = await db.query<HeadRow>("SELECT seq, hash, mac FROM audit_head");
    await appendMany(1);
    const recorded = (await verify()).head;
    // … deletes the newest events later and puts that row back.
    await tamper("DELETE FROM audit_events WHERE seq = 4");
    await db.query("UPDATE audit_head SET seq = $1, hash = $2, mac = $3", [
      third?.seq,
      third?.hash,
      third?.mac,
    ]);
    // The trail alone still looks whole, the head's MAC too: this is what the recorded head is for.
    expect((await verify()).ok).toBe(true);
    const result = await auditLog(db, ringOf(key)).verify(recorded);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: 3, problem: expect.stringMatching(/before the head recorded .*event 4/) },
    ]);
    // A wiped trail, head and all, fails the same way.
    await tamper("DELETE FROM audit_events");
    await db.query("UPDATE audit_head SET seq = 0, hash = repeat('0', 64)");
    expect((await auditLog(db, ringOf(key)).verify(recorded)).problems[0]?.problem).toMatch(
      /newer events were removed/,
    );
    // And a head the trail does contain at its sequence, but with another hash, means a rewrite.
    await appendMany(4);
    const rewritten = await auditLog(db, ringOf(key)).verify({ seq: 2, hash: "a".repeat(64) });
    expect(rewritten.problems).toEqual([{ seq: 2, problem: expect.stringMatching(/rewritten/) }]);
    expect((await auditLog(db, ringOf(key)).verify((await verify()).head)).ok).toBe(true);
  });

  it("finds a head pointed at an earlier event without its MAC", async () => {
    await appendMany(4);
    const [third] = await db.query<{ hash: string }>("SELECT hash FROM audit_events WHERE seq = 3");
    await tamper("DELETE FROM audit_events WHERE seq = 4");
    await db.query("UPDATE audit_head SET seq = 3, hash = $1", [third?.hash]);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ seq: 3, problem: expect.stringMatching(/MAC does not match/) }]);
    // Nor does clearing the MAC, or writing one without the key, pass.
    await db.query("UPDATE audit_head SET mac = NULL");
    expect((await verify()).problems).toEqual([{ seq: 3, problem: expect.stringMatching(/has no MAC/) }]);
    await db.query("UPDATE audit_head SET mac = $1", [
      headMac(headKey(Buffer.alloc(32, 9)), 3, third?.hash ?? ""),
    ]);
    expect((await verify()).problems).toEqual([
      { seq: 3, problem: expect.stringMatching(/MAC does not match/) },
    ]);
  });

  it("refuses to extend a forged head, so the next event cannot give it a valid MAC", async () => {
    await appendMany(2);
    const [first] = await db.query<{ hash: string }>("SELECT hash FROM audit_events WHERE seq = 1");
    await tamper("DELETE FROM audit_events WHERE seq = 2");
    await db.query("UPDATE audit_head SET seq = 1, hash = $1", [first?.hash]);
    await expect(appendMany(1)).rejects.toThrow(/head was changed outside Leasehold/);
    expect((await verify()).problems).toEqual([
      { seq: 1, problem: expect.stringMatching(/MAC does not match/) },
    ]);
  });

  it("seals a head from before heads had MACs on the next append", async () => {
    await appendMany(2);
    // What migration 0004 leaves on an existing installation.
    await db.query("UPDATE audit_head SET mac = NULL");
    expect((await verify()).problems).toEqual([{ seq: 2, problem: expect.stringMatching(/has no MAC/) }]);
    await appendMany(1);
    expect(await verify()).toMatchObject({ ok: true, events: 3, head: { seq: 3 } });
  });

  it("finds a head set back while the newer events stay", async () => {
    await appendMany(3);
    await db.query("UPDATE audit_head SET seq = 0, hash = repeat('0', 64), mac = NULL");
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: 0, problem: expect.stringMatching(/events up to 3 follow the chain head .*set back/) },
    ]);
  });

  it("finds a chain rewritten without the key", async () => {
    await appendMany(3);
    // A forger with database access recomputes a consistent chain under a key they guessed.
    const forged = auditLog(db, ringOf(Buffer.alloc(32, 9)));
    await tamper("DELETE FROM audit_events");
    await db.query("UPDATE audit_head SET seq = 0, hash = repeat('0', 64)");
    await db.transaction((tx) =>
      auditLog(tx, ringOf(Buffer.alloc(32, 9))).append(
        {
          actor: "mallory",
          action: "request.cancelled",
          subjectType: "request",
          subjectId: randomUUID(),
          data: {},
        },
        at,
      ),
    );
    expect((await forged.verify()).ok).toBe(true);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.problem).toMatch(/edited/);
  });

  it("events appended together chain like events appended one by one", async () => {
    await appendMany(2);
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    const subjects = [randomUUID(), randomUUID(), randomUUID()];
    const appended = await store.transaction((repos) =>
      repos.audit.appendMany(
        subjects.map((subjectId, i) => ({
          actor: "system:worker",
          action: "grant.expired" as const,
          subjectType: "grant" as const,
          subjectId,
          data: { deadline: new Date(at.getTime() + i).toISOString() },
        })),
        at,
      ),
    );
    expect(appended.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(appended[0]?.prevHash).not.toBe(appended[1]?.prevHash);
    expect(appended[1]?.prevHash).toBe(appended[0]?.hash);
    await appendMany(1);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, events: 6, problems: [], head: { seq: 6 } });
    const listed = await auditLog(db, ringOf(key)).list({ afterSeq: 2, limit: 3 });
    expect(listed.map((e) => e.subjectId)).toEqual(subjects);
    expect(await store.transaction((repos) => repos.audit.appendMany([], at))).toEqual([]);
    expect((await verify()).head.seq).toBe(6);
  });

  it("lists events by subject, oldest first", async () => {
    await appendMany(3);
    const [second] = await auditLog(db, ringOf(key)).list({ afterSeq: 1, limit: 1 });
    expect(second?.seq).toBe(2);
    const bySubject = await auditLog(db, ringOf(key)).list({
      afterSeq: 0,
      limit: 10,
      subjectId: second?.subjectId,
    });
    expect(bySubject.map((e) => e.seq)).toEqual([2]);
    expect(bySubject[0]?.data).toEqual({
      attempt: 1,
      expiresAt: at.toISOString(),
      reference: { a: [1, "x"], b: 1 },
    });
  });

  it("a transaction that rolls back leaves no event and no gap", async () => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    await expect(
      store.transaction(async (repos) => {
        await repos.audit.append(
          {
            actor: "a",
            action: "request.cancelled",
            subjectType: "request",
            subjectId: randomUUID(),
            data: {},
          },
          at,
        );
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    await appendMany(1);
    expect(await verify()).toMatchObject({ ok: true, events: 1 });
  });
});

describe("audit trail under concurrent writers on postgres", () => {
  it("keeps one unbroken chain", async () => {
    const db = await createTestDatabase("postgres");
    try {
      const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction((repos) =>
            repos.audit.append(
              {
                actor: "a",
                action: "request.expired",
                subjectType: "request",
                subjectId: randomUUID(),
                data: { pendingUntil: `${i}` },
              },
              at,
            ),
          ),
        ),
      );
      expect(await auditLog(db, ringOf(key)).verify()).toMatchObject({
        ok: true,
        events: 20,
        head: { seq: 20 },
      });
      // Batches and single events interleaved still form one chain.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.transaction((repos) =>
            repos.audit.appendMany(
              Array.from({ length: i + 1 }, () => ({
                actor: "a",
                action: "grant.expired" as const,
                subjectType: "grant" as const,
                subjectId: randomUUID(),
                data: { deadline: `${i}` },
              })),
              at,
            ),
          ),
        ),
      );
      expect(await auditLog(db, ringOf(key)).verify()).toMatchObject({
        ok: true,
        events: 75,
        head: { seq: 75 },
      });
    } finally {
      await db.close();
    }
  });
});
