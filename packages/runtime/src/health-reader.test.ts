import { randomUUID } from "node:crypto";
import { parseConfig } from "@leasehold/config";
import type { Database } from "@leasehold/db";
import { createTestDatabase } from "@leasehold/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthReader } from "./health-reader.js";

const ROLE = "arn:aws:iam::123456789012:role/Shared";
const target = (id: string) => `  - id: ${id}
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    aws: { roleArn: "${ROLE}" }
`;
const CONFIG = `identityProviders:
  - { name: corp, issuer: "https://idp.example.com", audience: leasehold }
targets:
${target("shared-readonly")}${target("shared-admin")}rotations:
  - id: orders-app-password
    secret:
      awsSecretsManager: { secretId: prod/orders/app }
    database: { engine: postgres, adminUrlEnv: ORDERS_DB_ADMIN_URL, username: orders_app }
    schedule: { cron: "0 3 * * *" }
`;

/**
 * The metrics' snapshot labels rows with what leasehold.yaml says (kinds, the role that still honours
 * a grant in debt), never with the rows' own values, and counts a removed target under "unknown".
 */
describe("the metrics' health snapshot", () => {
  let db: Database;
  const now = new Date("2026-12-01T12:00:00.000Z");
  beforeAll(async () => {
    db = await createTestDatabase("pglite");
  });
  afterAll(() => db.close());

  const grant = (targetId: string, state: string) =>
    db.query(
      `INSERT INTO grants (id, target_id, principal_id, state, duration_seconds, created_at, updated_at, expires_at)
       VALUES ($1, $2, 'dev@example.com', $3, 900, $4, $4, $4)`,
      [randomUUID(), targetId, state, now],
    );

  it("names revocation debt by the role its targets share, and counts what no target names as unknown", async () => {
    await grant("shared-readonly", "revocation_failed");
    await grant("shared-admin", "revocation_failed");
    await grant("shared-admin", "active");
    await grant("removed-target", "revocation_failed");
    await db.query(
      `INSERT INTO rotation_runs (id, rotation_id, trigger_key, triggered_by, state, step, started_at, finished_at)
       VALUES ($1, 'orders-app-password', 'tick-1', 'schedule', 'succeeded', 'done', $2, $2)`,
      [randomUUID(), new Date(now.getTime() - 3_600_000)],
    );
    const config = parseConfig(CONFIG, "test.yaml");
    const read = healthReader({
      db,
      producer: { depths: async () => [{ queue: "grant-issue", depth: 3 }] },
      config,
      rotations: config.rotations,
      clock: () => now,
    });
    const snapshot = await read();
    expect(snapshot.revocationDebt).toEqual(
      expect.arrayContaining([
        { backend: ROLE, targetKind: "aws-role", count: 2 },
        { backend: "unknown", targetKind: "unknown", count: 1 },
      ]),
    );
    expect(snapshot.revocationDebt).toHaveLength(2);
    expect(snapshot.grants).toEqual(
      expect.arrayContaining([
        { state: "revocation_failed", targetKind: "aws-role", count: 2 },
        { state: "active", targetKind: "aws-role", count: 1 },
        { state: "revocation_failed", targetKind: "unknown", count: 1 },
      ]),
    );
    expect(snapshot.queueDepths).toEqual([{ queue: "grant-issue", depth: 3 }]);
    expect(snapshot.rotations).toEqual([
      {
        rotation: "orders-app-password",
        lastSuccessAgeSeconds: 3600,
        lastRunFailed: false,
        intervalSeconds: 86_400,
      },
    ]);
  });
});
