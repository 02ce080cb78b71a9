import { createHash, generateKeyPairSync, randomUUID, sign, verify } from "node:crypto";
import { createStore, openPostgres } from "@leasehold/db";
import { type AuditCheckpoint, type AuditEvent, checkpointMessage, readAuditEvent } from "@leasehold/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CheckpointSigner, createAuditCheckpointService } from "./audit-checkpoint-service.js";
import { admin, createHarness, type Harness, requester, willing } from "./test-harness.js";

/**
 * Signed checkpoints on real PostgreSQL: written every N events or T seconds into the trail itself,
 * once however many workers ask, and what makes `verify` catch a trail cut back by a superuser.
 * The key is a real Ed25519 pair (the config package derives the production one; its tests cover that).
 */

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const rawPublic = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
const signer: CheckpointSigner = {
  keyId: createHash("sha256").update(rawPublic).digest("hex").slice(0, 16),
  publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  previous: [],
  sign: (head) => ({
    ...head,
    keyId: signer.keyId,
    signature: sign(null, Buffer.from(checkpointMessage(head)), privateKey).toString("base64"),
  }),
};
const signedByKey = (c: AuditCheckpoint) =>
  verify(null, Buffer.from(checkpointMessage(c)), publicKey, Buffer.from(c.signature, "base64"));

const schedule = { everyEvents: 5, everySeconds: 300 };

describe("signed audit checkpoints (PostgreSQL)", () => {
  let h: Harness;
  let checkpoints: ReturnType<typeof createAuditCheckpointService>;
  beforeEach(async () => {
    h = await createHarness("postgres", willing);
    checkpoints = createAuditCheckpointService(h.deps, { signer, schedule });
  });
  afterEach(async () => {
    await h.close();
  });

  const append = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await h.deps.store.transaction((repos) =>
        repos.audit.append(
          {
            actor: requester.id,
            action: "request.cancelled",
            subjectType: "request",
            subjectId: randomUUID(),
            data: {},
          },
          h.clock.now,
        ),
      );
    }
  };
  const trail = () => h.deps.store.read((repos) => repos.audit.list({ afterSeq: 0, limit: 500 }));
  const checkpointOf = (event: AuditEvent | undefined): AuditCheckpoint => {
    const typed = event && readAuditEvent(event);
    if (typed?.action !== "audit.checkpoint") throw new Error(`event ${event?.seq} is no checkpoint`);
    return typed.data;
  };

  it("writes one every N events or T seconds, whichever first, and none while the trail stands still", async () => {
    expect(await checkpoints.checkpoint()).toBeUndefined();
    await append(3);
    expect(await checkpoints.checkpoint()).toEqual({ covers: 3, seq: 4 });
    await append(3);
    expect(await checkpoints.checkpoint()).toBeUndefined();
    await append(2);
    expect(await checkpoints.checkpoint()).toEqual({ covers: 9, seq: 10 });
    h.clock.advance(3600);
    expect(await checkpoints.checkpoint()).toBeUndefined();
    await append(1);
    expect(await checkpoints.checkpoint()).toEqual({ covers: 11, seq: 12 });

    const events = await trail();
    for (const seq of [4, 10, 12]) {
      const event = events[seq - 1];
      const data = checkpointOf(event);
      expect(event).toMatchObject({
        actor: "system:checkpoint",
        subjectType: "audit",
        subjectId: String(seq - 1),
      });
      // It covers exactly the event before it: that event's seq and chain hash.
      expect(data).toMatchObject({ seq: seq - 1, hash: events[seq - 2]?.hash, keyId: signer.keyId });
      expect(data.hash).toBe(event?.prevHash);
      expect(data.at).toBe(event?.at.toISOString());
      expect(signedByKey(data)).toBe(true);
    }
    expect((await h.deps.store.read((repos) => repos.audit.verify())).ok).toBe(true);
  });

  it("signs exactly its fields: changing any one breaks the signature", async () => {
    await append(2);
    await checkpoints.checkpoint();
    const data = checkpointOf((await trail()).at(-1));
    expect(signedByKey(data)).toBe(true);
    for (const change of [{ seq: 1 }, { hash: "0".repeat(64) }, { at: new Date(0).toISOString() }]) {
      expect(signedByKey({ ...data, ...change }), JSON.stringify(change)).toBe(false);
    }
  });

  it("signs over a master key change at once, whatever the schedule says", async () => {
    const rare = { everyEvents: 1000, everySeconds: 3600 };
    await append(1);
    await createAuditCheckpointService(h.deps, { signer, schedule: rare }).checkpoint();
    await append(1);
    const harnessKeys = { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) };
    const store = createStore(h.db, {
      keyId: "k2",
      auditKey: Buffer.alloc(32, 13),
      grantKey: Buffer.alloc(32, 12),
      previous: [harnessKeys],
    });
    const rotated = createAuditCheckpointService({ ...h.deps, store }, { signer, schedule: rare });
    // Not due by the schedule: one event since the last checkpoint, and no time passed.
    expect(await rotated.checkpoint()).toBeUndefined();
    await store.transaction((repos) =>
      repos.audit.append(
        {
          actor: requester.id,
          action: "request.cancelled",
          subjectType: "request",
          subjectId: randomUUID(),
          data: {},
        },
        h.clock.now,
      ),
    );
    expect((await trail()).map((e) => e.action)).toEqual([
      "request.cancelled",
      "audit.checkpoint",
      "request.cancelled",
      "audit.key_changed",
      "request.cancelled",
    ]);
    expect(await rotated.checkpoint()).toEqual({ covers: 5, seq: 6 });
    expect(signedByKey(checkpointOf((await trail()).at(-1)))).toBe(true);
    expect(await rotated.checkpoint()).toBeUndefined();
    expect((await store.read((repos) => repos.audit.verify())).ok).toBe(true);
  });

  it("is written once when two workers ask at the same time", async () => {
    if (h.url === undefined) throw new Error("expected a PostgreSQL database with a URL");
    const otherDb = openPostgres(h.url);
    try {
      const store = createStore(otherDb, {
        keyId: "k1",
        auditKey: Buffer.alloc(32, 3),
        grantKey: Buffer.alloc(32, 2),
      });
      const other = createAuditCheckpointService({ ...h.deps, store }, { signer, schedule });
      await append(7);
      const results = await Promise.all([
        checkpoints.checkpoint(),
        other.checkpoint(),
        checkpoints.checkpoint(),
      ]);
      expect(results.filter(Boolean)).toEqual([{ covers: 7, seq: 8 }]);
      expect((await trail()).filter((e) => e.action === "audit.checkpoint")).toHaveLength(1);
    } finally {
      await otherDb.close();
    }
  });

  it("lets verify catch the newest events deleted and the head rewound by a superuser, and a wiped trail", async () => {
    await append(3);
    // A superuser keeps a copy of the head row (MAC and all) while it names event 3…
    const [saved] = await h.db.query<{ seq: string; hash: string; mac: string }>(
      "SELECT seq, hash, mac FROM audit_head WHERE id = 1",
    );
    await append(3);
    await checkpoints.checkpoint();
    const published = checkpointOf((await trail()).at(-1));
    expect(published.seq).toBe(6);
    await append(2);
    const verifyAgainst = (expected?: { seq: number; hash: string }) =>
      h.deps.store.read((repos) => repos.audit.verify(expected));
    expect((await verifyAgainst(published)).ok).toBe(true);

    // …then deletes everything after it (the checkpoint event too) and puts the old head back.
    await h.db.transaction(async (tx) => {
      await tx.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
      await tx.query("DELETE FROM audit_events WHERE seq > 3");
      await tx.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
      await tx.query("UPDATE audit_head SET seq = $1, hash = $2, mac = $3", [
        saved?.seq,
        saved?.hash,
        saved?.mac,
      ]);
    });
    // The trail alone looks whole: this is what the published checkpoint is for.
    expect((await verifyAgainst()).ok).toBe(true);
    const cut = await verifyAgainst(published);
    expect(cut.ok).toBe(false);
    expect(cut.problems).toEqual([
      {
        seq: 3,
        problem: expect.stringMatching(
          /trail ends at event 3, before .* \(event 6\): newer events were removed/,
        ),
      },
    ]);

    // Wiped, head and all (session_replication_role skips every trigger, as a superuser may).
    await h.db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query("DELETE FROM audit_events");
      await tx.query("UPDATE audit_head SET seq = 0, hash = repeat('0', 64), mac = NULL");
    });
    const wiped = await verifyAgainst(published);
    expect(wiped.ok).toBe(false);
    expect(wiped.problems.map((p) => p.problem)).toContainEqual(
      expect.stringMatching(/trail ends at event 0, before .* \(event 6\): newer events were removed/),
    );
  });

  it("gives admins the public key, and nobody else", () => {
    expect(checkpoints.publicKey(admin)).toEqual({
      keyId: signer.keyId,
      publicKeyPem: signer.publicKeyPem,
      previous: [],
    });
    expect(() => checkpoints.publicKey(requester)).toThrow(/only admins/);
    expect(checkpoints.checkpointKeyId).toBe(signer.keyId);
  });
});
