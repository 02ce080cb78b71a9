import { randomUUID } from "node:crypto";
import { newGrant } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, SqlExecutor } from "./database.js";
import { grantRepo } from "./grant-repo.js";
import { readHealthCounts } from "./health-counts.js";
import { rotationRunRepo } from "./rotation-run-repo.js";
import { createTestDatabase, dialects } from "./test-database.js";

const now = new Date("2026-12-06T10:00:00.000Z");
const earlier = new Date(now.getTime() - 3_600_000);
const ring = { current: { id: "k1", key: Buffer.alloc(32, 2) }, previous: [] };
/** Ended rows laid down before each read: none of them may be read. */
const HISTORY = 40;

/**
 * Runs `work` in a transaction and counts the rows it read from `table`, by any scan (the
 * transaction's own statistics, exact). Sequential scans are switched off: on tables this small the
 * planner may read one whole even where an index serves, and the question is whether one does.
 */
async function rowsRead<T>(db: Database, table: string, work: (tx: SqlExecutor) => Promise<T>) {
  return db.transaction(async (tx) => {
    await tx.query("SET LOCAL enable_seqscan = off");
    const read = async () => {
      const [row] = await tx.query<{ n: number }>(
        `SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::int AS n
           FROM pg_stat_xact_user_tables WHERE relname = $1`,
        [table],
      );
      return row?.n ?? 0;
    };
    const before = await read();
    const result = await work(tx);
    return { result, rows: (await read()) - before };
  });
}

/**
 * The reads on every grant, lease, revocation, sweep tick and metrics scrape go through indexes of
 * the rows that may matter (migration 0016): however much history lies beside them, they read none of it.
 */
describe.each(dialects)("reads of live rows on %s", (dialect) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db.close());

  /** Inserts `live` grants as they are, and HISTORY more on `targetId` that ended and were released. */
  async function grantsWithHistory(principalId: string, targetId: string, live: readonly string[]) {
    const grant = (target: string) =>
      newGrant({
        id: randomUUID(),
        requestId: null,
        targetId: target,
        principalId,
        durationSeconds: 600,
        now,
      });
    const ended = Array.from({ length: HISTORY }, () => grant(targetId));
    await db.transaction(async (tx) => {
      const grants = grantRepo(tx, ring);
      for (const g of [...ended, ...live.map(grant)]) await grants.insert(g);
      await tx.query(
        `UPDATE grants SET state = 'expired', expires_at = $2, ended_at = $2, released_at = $2
          WHERE id = ANY($1::uuid[])`,
        [ended.map((g) => g.id), now],
      );
    });
  }

  it("the caps' counts before a grant or lease", async () => {
    const principalId = `workload-${randomUUID()}`;
    const orders = `orders-${randomUUID()}`;
    await grantsWithHistory(principalId, orders, [orders, orders, "billing"]);
    const { result, rows } = await rowsRead(db, "grants", async (tx) => {
      const grants = grantRepo(tx, ring);
      return {
        held: await grants.countHeld(principalId, "lease"),
        requested: await grants.countHeld(principalId, "requested"),
        onOrders: await grants.countLeasesByPrincipal(orders),
      };
    });
    expect(result.held.count).toBe(3);
    expect(result.requested.count).toBe(0);
    expect(result.onOrders).toEqual([{ principalId, count: 2, nextFreeAt: null }]);
    // The three live grants twice (a lease count, a request count) and the two on orders.
    expect(rows).toBeLessThanOrEqual(8);
  });

  it("the denials of a shared role, on every revocation and release", async () => {
    const role = `role-${randomUUID()}`;
    await grantsWithHistory(`workload-${randomUUID()}`, role, [role, role]);
    const { result, rows } = await rowsRead(db, "grants", (tx) =>
      grantRepo(tx, ring).listForDenials([role], null),
    );
    expect(result).toHaveLength(2);
    expect(rows).toBeLessThanOrEqual(2);
  });

  it("the metrics' gauges, on every scrape", async () => {
    const target = `gauged-${randomUUID()}`;
    await grantsWithHistory(`workload-${randomUUID()}`, target, [target]);
    const { result, rows } = await rowsRead(db, "grants", (tx) => readHealthCounts(tx, []));
    expect(result.grants).toContainEqual({ targetId: target, state: "issuing", count: 1 });
    // Every live grant in this database, from every test of this file, and no ended one.
    expect(rows).toBe(result.grants.reduce((sum, g) => sum + g.count, 0));
  });

  it("the drift scan's owners of leftover roles, by the id prefix a role's name carries", async () => {
    const target = `drifted-${randomUUID()}`;
    const principalId = `workload-${randomUUID()}`;
    await grantsWithHistory(principalId, target, [target, target]);
    const live = await db.query<{ id: string }>(
      "SELECT id FROM grants WHERE principal_id = $1 AND state = 'issuing'",
      [principalId],
    );
    const prefixOf = (id: string) => id.replaceAll("-", "").slice(0, 16);
    const prefixes = live.map((g) => prefixOf(g.id));
    const { result, rows } = await rowsRead(db, "grants", (tx) =>
      grantRepo(tx, ring).ownershipByIdPrefix([
        ...prefixes.map((p) => p.toUpperCase()),
        "0000000000000000",
        "not-a-grant-id!!",
        "",
      ]),
    );
    expect(result.map((g) => g.id).sort()).toEqual(live.map((g) => g.id).sort());
    expect(result.every((g) => g.state === "issuing" && g.durationSeconds === 600)).toBe(true);
    expect(rows).toBeLessThanOrEqual(2);
  });

  it("a rotation's stalled runs and last success, every sweep and every minute", async () => {
    const rotationId = `rotation-${randomUUID()}`;
    await db.transaction(async (tx) => {
      const runs = rotationRunRepo(tx);
      for (let i = 0; i < HISTORY; i++) {
        const at = new Date(earlier.getTime() + i * 1000);
        const { run } = await runs.start({
          id: randomUUID(),
          rotationId,
          triggerKey: `tick-${i}`,
          triggeredBy: "schedule",
          at,
        });
        await runs.finish(run?.id ?? "", "succeeded", at, null);
      }
      await runs.start({
        id: randomUUID(),
        rotationId,
        triggerKey: "stalled",
        triggeredBy: "schedule",
        at: earlier,
      });
    });
    const { result, rows } = await rowsRead(db, "rotation_runs", async (tx) => {
      const runs = rotationRunRepo(tx);
      return { stalled: await runs.listStalled(now, 10), last: await runs.latestSucceeded(rotationId) };
    });
    expect(result.stalled.map((run) => run.triggerKey)).toEqual(["stalled"]);
    expect(result.last?.triggerKey).toBe(`tick-${HISTORY - 1}`);
    expect(rows).toBeLessThanOrEqual(2);
  });
});
