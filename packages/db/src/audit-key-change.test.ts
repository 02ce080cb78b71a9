import { createHmac, randomUUID } from "node:crypto";
import type { JsonValue } from "@leasehold/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "./audit-chain.js";
import { headKey, headMac } from "./audit-head.js";
import type { Database } from "./database.js";
import { createStore, type StoreKeySet } from "./store.js";
import { createTestDatabase } from "./test-database.js";

/**
 * The audit trail across a master key rotation, on PostgreSQL: one `audit.key_changed` event however
 * many writers race, verification across it with the keyring, and what it finds when a key is missing
 * or a key change was forged.
 */
const at = new Date("2026-12-01T10:00:00.000Z");
const keysA: StoreKeySet = {
  keyId: "aaaaaaaaaaaaaaaa",
  auditKey: Buffer.alloc(32, 1),
  grantKey: Buffer.alloc(32, 2),
};
const keysB: StoreKeySet = {
  keyId: "bbbbbbbbbbbbbbbb",
  auditKey: Buffer.alloc(32, 3),
  grantKey: Buffer.alloc(32, 4),
};

const event = (i: number) => ({
  actor: "alice@example.com",
  action: "grant.issued" as const,
  subjectType: "grant" as const,
  subjectId: randomUUID(),
  data: { expiresAt: at.toISOString(), attempt: i, reference: {} },
});

describe("the audit trail across a master key change", () => {
  let db: Database;
  beforeEach(async () => {
    db = await createTestDatabase("postgres");
  });
  afterEach(async () => {
    await db.close();
  });

  const underA = () => createStore(db, keysA);
  const rotated = () => createStore(db, { ...keysB, previous: [keysA] });
  const append = (store: ReturnType<typeof createStore>, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) => store.transaction((repos) => repos.audit.append(event(i), at))),
    );
  const trail = () =>
    db.query<{ seq: string; action: string; key_id: string | null; data: Record<string, JsonValue> }>(
      "SELECT seq, action, key_id, data FROM audit_events ORDER BY seq",
    );

  it("the first writer under the new key links the trail over once, however many writers race", async () => {
    await append(underA(), 3);
    // Several replicas under the new key, each with its own store, append at once.
    await Promise.all([append(rotated(), 5), append(rotated(), 5), append(rotated(), 5)]);
    const rows = await trail();
    const changes = rows.filter((r) => r.action === "audit.key_changed");
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      seq: "4",
      key_id: keysA.keyId,
      data: { fromKeyId: keysA.keyId, toKeyId: keysB.keyId },
    });
    expect(rows.slice(0, 3).map((r) => r.key_id)).toEqual([keysA.keyId, keysA.keyId, keysA.keyId]);
    expect(new Set(rows.slice(4).map((r) => r.key_id))).toEqual(new Set([keysB.keyId]));
    const verified = await rotated().read((repos) => repos.audit.verify());
    expect(verified).toMatchObject({ ok: true, events: 19, problems: [] });
    // Events under both keys are authentic for their subject.
    const first = await underA().read((repos) => repos.audit.list({ afterSeq: 0, limit: 1 }));
    const subject = first[0]?.subjectId ?? "";
    expect(await rotated().read((repos) => repos.audit.authenticFor(subject))).toHaveLength(1);
  });

  it("a crash before the first commit under the new key leaves no key change; the next writer makes it", async () => {
    await append(underA(), 2);
    await expect(
      rotated().transaction(async (repos) => {
        await repos.audit.append(event(9), at);
        throw new Error("the process died before the commit");
      }),
    ).rejects.toThrow("died");
    expect((await trail()).map((r) => r.action)).toEqual(["grant.issued", "grant.issued"]);
    const [head] = await db.query<{ key_id: string }>("SELECT key_id FROM audit_head");
    expect(head?.key_id).toBe(keysA.keyId);
    // A process still under the old key goes on writing meanwhile (the roll-out is not done).
    await append(underA(), 1);
    await append(rotated(), 1);
    expect((await trail()).map((r) => r.action)).toEqual([
      "grant.issued",
      "grant.issued",
      "grant.issued",
      "audit.key_changed",
      "grant.issued",
    ]);
    expect((await rotated().read((repos) => repos.audit.verify())).ok).toBe(true);
  });

  it("a process still under the old key cannot extend a trail the new key has taken over", async () => {
    await append(underA(), 1);
    await append(rotated(), 1);
    await expect(append(underA(), 1)).rejects.toThrow(
      `the audit trail's head is under key ${keysB.keyId}, which is not in the keyring`,
    );
  });

  it("names the events under a key the keyring no longer holds", async () => {
    await append(underA(), 2);
    await append(rotated(), 2);
    const withoutA = createStore(db, keysB);
    const result = await withoutA.read((repos) => repos.audit.verify());
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual({
      seq: 1,
      problem: expect.stringMatching(/^is under key aaaaaaaaaaaaaaaa, which is not in the keyring/),
    });
    expect(result.problems.map((p) => p.seq)).toEqual([1, 2, 3]);
  });

  it("finds a key change forged by someone who holds only the old key", async () => {
    await append(underA(), 2);
    // The old key leaked: the forger links a change to a key named like the real new one, but made
    // with a key of their own, and writes on under it.
    const forger = createStore(db, { ...keysB, auditKey: Buffer.alloc(32, 9), previous: [keysA] });
    await append(forger, 1);
    const result = await rotated().read((repos) => repos.audit.verify());
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual({
      seq: 3,
      problem: `is a forged key change: its agreement does not match key ${keysB.keyId}`,
    });
    expect(result.problems).toContainEqual({
      seq: 4,
      problem: "its contents do not match its hash (the event was edited)",
    });
  });

  it("finds events linked under the old key after the change", async () => {
    await append(underA(), 1);
    await append(rotated(), 1);
    // The forger holds the old key and the database: an event under the old key after the change,
    // with a head sealed under the old key too.
    const [head] = await db.query<{ seq: string; hash: string }>("SELECT seq, hash FROM audit_head");
    const seq = Number(head?.seq) + 1;
    const forged = { ...event(7), seq, prevHash: head?.hash ?? "" };
    const hash = createHmac("sha256", keysA.auditKey)
      .update(
        canonicalJson([
          seq,
          at.toISOString(),
          forged.actor,
          forged.action,
          forged.subjectType,
          forged.subjectId,
          forged.data,
          forged.prevHash,
          keysA.keyId,
        ]),
      )
      .digest("hex");
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          seq,
          at,
          forged.actor,
          forged.action,
          forged.subjectType,
          forged.subjectId,
          forged.data,
          forged.prevHash,
          hash,
          keysA.keyId,
        ],
      );
      await tx.query("UPDATE audit_head SET seq = $1, hash = $2, mac = $3, key_id = $4", [
        seq,
        hash,
        headMac(headKey(keysA.auditKey), seq, hash),
        keysA.keyId,
      ]);
    });
    const result = await rotated().read((repos) => repos.audit.verify());
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual({
      seq,
      problem: expect.stringMatching(
        /is under key aaaaaaaaaaaaaaaa, but the trail is under key bbbbbbbbbbbbbbbb there/,
      ),
    });
  });

  it("takes a trail from before keys had ids over from the key its head's MAC matches", async () => {
    // Two events and a head as the previous release wrote them: no key ids, chained under key A.
    let prevHash = "0".repeat(64);
    await db.transaction(async (tx) => {
      for (const seq of [1, 2]) {
        const e = { ...event(seq), seq };
        const hash = createHmac("sha256", keysA.auditKey)
          .update(
            canonicalJson([
              seq,
              at.toISOString(),
              e.actor,
              e.action,
              e.subjectType,
              e.subjectId,
              e.data,
              prevHash,
            ]),
          )
          .digest("hex");
        await tx.query(
          `INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [seq, at, e.actor, e.action, e.subjectType, e.subjectId, e.data, prevHash, hash],
        );
        prevHash = hash;
      }
      await tx.query("UPDATE audit_head SET seq = 2, hash = $1, mac = $2", [
        prevHash,
        headMac(headKey(keysA.auditKey), 2, prevHash),
      ]);
    });
    // Upgrading alone changes no key: the next event names the key, with no key change.
    await append(underA(), 1);
    await append(rotated(), 1);
    const rows = await trail();
    expect(rows.map((r) => [r.action, r.key_id])).toEqual([
      ["grant.issued", null],
      ["grant.issued", null],
      ["grant.issued", keysA.keyId],
      ["audit.key_changed", keysA.keyId],
      ["grant.issued", keysB.keyId],
    ]);
    expect(await underA().read((repos) => repos.audit.verify())).toMatchObject({ ok: false });
    expect(await rotated().read((repos) => repos.audit.verify())).toMatchObject({ ok: true, events: 5 });
  });
});
