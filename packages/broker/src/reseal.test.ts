import { randomUUID } from "node:crypto";
import { createStore, type Database, type StoreKeySet } from "@leasehold/db";
import { noMetrics, type SealedKind } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialCipher, grantBinding } from "./credential-cipher.js";
import { createResealService, type ResealOptions } from "./reseal-service.js";
import { createHarness, grantInState, type Harness, willing } from "./test-harness.js";
import { vaultSecretIdBinding } from "./vault-secret-id-rotation.js";

/**
 * The re-seal after a master key rotation, on PostgreSQL: credentials, staged rotation values and
 * grant MACs under the previous key are moved to the current one; a worker that dies before any of
 * its batches commits, or stops between batches, leaves everything readable, and the next run (or
 * another worker at the same time) finishes the job.
 */

// The harness seals under key "k1": store keys 3 (audit) and 2 (grants), credentials key 4.
const OLD: StoreKeySet = { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) };
const OLD_CREDENTIALS = { id: "k1", key: Buffer.alloc(32, 4) };
const NEW: StoreKeySet = { keyId: "k2", auditKey: Buffer.alloc(32, 13), grantKey: Buffer.alloc(32, 12) };
const NEW_CREDENTIALS = { id: "k2", key: Buffer.alloc(32, 14) };
const SMALL: ResealOptions = { batchSize: 2, batchesPerRun: 50 };
const silent = { info() {}, warn() {}, error() {} };

/** A worker whose `n`th transaction dies before its commit (it throws, so the transaction rolls back). */
const dyingAt = (db: Database, n: number): Database => {
  let count = 0;
  return {
    ...db,
    transaction: (work) =>
      db.transaction(async (tx) => {
        const result = await work(tx);
        count += 1;
        if (count === n) throw new Error("the worker died before the commit");
        return result;
      }),
  };
};

describe("re-sealing under the current master key", () => {
  let h: Harness;
  const grants: string[] = [];
  /** The gauge as the last run reported it. */
  const gauge = new Map<SealedKind, number>();
  const metrics = {
    ...noMetrics,
    sealedUnderPreviousKeys: (kind: SealedKind, n: number) => gauge.set(kind, n),
  };
  const runs: string[] = [];

  /** A worker with `current` as its key and `previous` as the ring's other, over `db`. */
  const worker = (
    db: Database,
    current: { store: StoreKeySet; credentials: { id: string; key: Buffer } },
    previous: { store: StoreKeySet; credentials: { id: string; key: Buffer } },
    options: ResealOptions = SMALL,
  ) => {
    const store = createStore(db, { ...current.store, previous: [previous.store] });
    const cipher = createCredentialCipher(current.credentials, [previous.credentials]);
    return { store, cipher, reseal: createResealService({ store, cipher, log: silent, metrics }, options) };
  };
  const oldKeys = { store: OLD, credentials: OLD_CREDENTIALS };
  const newKeys = { store: NEW, credentials: NEW_CREDENTIALS };
  const rotated = (db: Database = h.db, options?: ResealOptions) => worker(db, newKeys, oldKeys, options);
  /** Back to the old key: how each crash test starts from everything under the old key again. */
  const unrotated = () => worker(h.db, oldKeys, newKeys);

  /**
   * Everything still opens with the ring, to what was sealed; every grant's MAC still matches under
   * the ring. With `only` set, everything is under that key alone (a ring of just it opens it all).
   */
  const expectIntact = async (only?: { store: StoreKeySet; credentials: { id: string; key: Buffer } }) => {
    const ring = only
      ? { store: createStore(h.db, only.store), cipher: createCredentialCipher(only.credentials) }
      : rotated();
    for (const id of grants) {
      const grant = await ring.store.read((r) => r.grants.findById(id));
      if (!grant) throw new Error("the grant is gone");
      expect(await ring.store.read((r) => r.grants.isSealed(grant))).toBe(true);
      const [row] = await h.db.query<{ credential: Uint8Array }>(
        "SELECT credential FROM grants WHERE id = $1",
        [id],
      );
      expect(ring.cipher.open(grantBinding(grant), Buffer.from(row?.credential ?? []))).toEqual({
        accessKeyId: "AKIAOLD",
      });
    }
    for (const id of runs) {
      const pending = await ring.store.read((r) => r.rotations.pending(id));
      expect(ring.cipher.open({ id }, pending ?? Buffer.alloc(0))).toEqual({ staged: `value of ${id}` });
    }
  };

  beforeAll(async () => {
    h = await createHarness("postgres", willing);
    for (let i = 0; i < 5; i++) grants.push(await grantInState(h, "active", 3600));
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      await h.deps.store.transaction(async (repos) => {
        await repos.rotations.start({
          id,
          rotationId: `r${i}`,
          triggerKey: "t",
          triggeredBy: "test",
          at: h.clock.now,
        });
        await repos.rotations.savePending(id, h.deps.cipher.seal({ id }, { staged: `value of ${id}` }));
      });
      runs.push(id);
    }
  });
  afterAll(() => h.close());

  it("counts what is under the previous key, moves it all, and then finds nothing more to do", async () => {
    const all = { credentials: 5, stagedValues: 3, grantMacs: 5, vaultSecretIds: 0 };
    expect(await rotated().reseal.remaining()).toEqual(all);
    const first = await rotated().reseal.run();
    expect(first).toEqual({ read: 13, unmoved: [], behind: false });
    expect(Object.fromEntries(gauge)).toEqual({
      credential: 0,
      staged_value: 0,
      grant_mac: 0,
      vault_secret_id: 0,
    });
    expect(await rotated().reseal.remaining()).toEqual({
      credentials: 0,
      stagedValues: 0,
      grantMacs: 0,
      vaultSecretIds: 0,
    });
    await expectIntact(newKeys);
    expect(await rotated().reseal.run()).toEqual({ read: 0, unmoved: [], behind: false });
    // And back, for the tests below.
    await unrotated().reseal.run();
    await expectIntact(oldKeys);
  });

  it("a worker that dies before any one of its batches commits loses only that batch; the next run finishes", async () => {
    // A clean run here takes 8 transactions: credentials 2+2+1, staged values 2+1, MACs 2+2+1 (a
    // short batch ends each kind).
    for (let n = 1; n <= 8; n++) {
      await expect(rotated(dyingAt(h.db, n)).reseal.run()).rejects.toThrow("died");
      await expectIntact();
      const left = await rotated().reseal.remaining();
      // Batches before the one that died stay done; that one and the rest wait.
      expect(left.credentials + left.stagedValues + left.grantMacs).toBeGreaterThan(0);
      await rotated().reseal.run();
      expect(await rotated().reseal.remaining()).toEqual({
        credentials: 0,
        stagedValues: 0,
        grantMacs: 0,
        vaultSecretIds: 0,
      });
      await expectIntact(newKeys);
      await unrotated().reseal.run();
    }
    // Those were all of a run's transactions: one that would die at the ninth finishes.
    expect(await rotated(dyingAt(h.db, 9)).reseal.run()).toMatchObject({ read: 13 });
    await unrotated().reseal.run();
  });

  it("a worker stopped between batches leaves the rest to the next run", async () => {
    const stop = new AbortController();
    const db = h.db;
    let committed = 0;
    const stopping: Database = {
      ...db,
      transaction: async (work) => {
        const result = await db.transaction(work);
        committed += 1;
        if (committed === 2) stop.abort();
        return result;
      },
    };
    const partial = await rotated(stopping).reseal.run(stop.signal);
    expect(partial.behind).toBe(true);
    await expectIntact();
    expect((await rotated().reseal.remaining()).credentials).toBe(1);
    await rotated().reseal.run();
    await expectIntact(newKeys);
    await unrotated().reseal.run();
  });

  it("several workers at once move each value once and leave nothing behind", async () => {
    const results = await Promise.all([
      rotated().reseal.run(),
      rotated().reseal.run(),
      rotated().reseal.run(),
    ]);
    // Rows one worker holds are skipped by the others, so no value is read twice … unless a worker
    // came by after it was committed, when it is no longer under the old key either.
    expect(results.reduce((sum, r) => sum + r.read, 0)).toBeLessThanOrEqual(13);
    await rotated().reseal.run();
    expect(await rotated().reseal.remaining()).toEqual({
      credentials: 0,
      stagedValues: 0,
      grantMacs: 0,
      vaultSecretIds: 0,
    });
    await expectIntact(newKeys);
  });

  it("reads nothing without a previous key in the ring", async () => {
    await unrotated().reseal.run();
    const alone = createStore(h.db, NEW);
    const cipher = createCredentialCipher(NEW_CREDENTIALS);
    const reseal = createResealService({ store: alone, cipher, log: silent, metrics }, SMALL);
    expect(await reseal.run()).toEqual({ read: 0, unmoved: [], behind: false });
    await expectIntact(oldKeys);
  });

  it("leaves a value changed outside Leasehold as it is and names it", async () => {
    await unrotated().reseal.run();
    const [victim] = grants;
    await h.db.query("UPDATE grants SET principal_id = 'mallory@example.com' WHERE id = $1", [victim]);
    const result = await rotated().reseal.run();
    // Its credential is bound to the old holder and its MAC to the old row: neither is vouched for.
    expect(result.unmoved).toEqual([victim, victim]);
    expect(await rotated().reseal.remaining()).toEqual({
      credentials: 1,
      stagedValues: 0,
      grantMacs: 1,
      vaultSecretIds: 0,
    });
    expect(Object.fromEntries(gauge)).toEqual({
      credential: 1,
      staged_value: 0,
      grant_mac: 1,
      vault_secret_id: 0,
    });
  });

  it("moves Leasehold's stored Vault secret id when it knows the AppRole role id it is bound to", async () => {
    const ROLE = "leasehold-role-id";
    const rowId = randomUUID();
    const oldCipher = createCredentialCipher(OLD_CREDENTIALS);
    const value = { secretId: "s-1234", accessor: "a-5678" };
    await h.deps.store.transaction((repos) =>
      repos.vaultSecretIds.addPending({
        id: rowId,
        sealed: oldCipher.seal(vaultSecretIdBinding(rowId, ROLE), value),
        at: h.clock.now,
      }),
    );
    const { store, cipher } = rotated();
    const withRole = createResealService({ store, cipher, log: silent, metrics }, SMALL, {
      vaultRoleId: ROLE,
    });
    expect((await rotated().reseal.remaining()).vaultSecretIds).toBe(1);
    // Without the role id the binding is unknown: the row is counted, not touched.
    await rotated().reseal.run();
    expect(gauge.get("vault_secret_id")).toBe(1);
    await withRole.run();
    expect(gauge.get("vault_secret_id")).toBe(0);
    const [row] = await h.db.query<{ sealed: Uint8Array }>(
      "SELECT sealed FROM vault_secret_ids WHERE id = $1",
      [rowId],
    );
    const newOnly = createCredentialCipher(NEW_CREDENTIALS);
    expect(newOnly.open(vaultSecretIdBinding(rowId, ROLE), Buffer.from(row?.sealed ?? []))).toEqual(value);
  });
});
