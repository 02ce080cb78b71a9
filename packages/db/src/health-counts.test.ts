import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { readHealthCounts } from "./health-counts.js";
import { createTestDatabase, dialects } from "./test-database.js";

const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 10, minutes));

describe.each(dialects)("health counts on %s", (dialect) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db.close());

  const grant = (targetId: string, state: string) =>
    db.query(
      `INSERT INTO grants (id, target_id, principal_id, state, duration_seconds, created_at, updated_at, expires_at)
       VALUES ($1, $2, 'dev@example.com', $3, 900, $4, $4, $4)`,
      [randomUUID(), targetId, state, at(0)],
    );
  const run = (rotationId: string, state: string, minute: number) =>
    db.query(
      `INSERT INTO rotation_runs (id, rotation_id, trigger_key, triggered_by, state, step, started_at, finished_at)
       VALUES ($1, $2, $3, 'schedule', $4, 'done', $5, $5)`,
      [randomUUID(), rotationId, randomUUID(), state, at(minute)],
    );

  it("counts live grants by target and state, pending requests, and each rotation's newest runs", async () => {
    await grant("prod", "active");
    await grant("prod", "active");
    await grant("prod", "revocation_failed");
    await grant("db", "issuing");
    // Ended grants are history and not counted.
    await grant("prod", "expired");
    await run("orders", "succeeded", 1);
    await run("orders", "failed", 2);
    const counts = await readHealthCounts(db, ["orders", "never"]);
    expect(
      [...counts.grants].sort((a, b) => (a.targetId + a.state).localeCompare(b.targetId + b.state)),
    ).toEqual([
      { targetId: "db", state: "issuing", count: 1 },
      { targetId: "prod", state: "active", count: 2 },
      { targetId: "prod", state: "revocation_failed", count: 1 },
    ]);
    expect(counts.requests).toEqual([]);
    expect(counts.rotations).toEqual([
      { rotationId: "orders", lastSuccessAt: at(1), latestState: "failed" },
      { rotationId: "never", lastSuccessAt: null, latestState: null },
    ]);
  });
});
