import { randomBytes, randomUUID } from "node:crypto";
import { newGrant } from "@leasehold/domain";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "./audit-log.js";
import { type Database, openPostgres } from "./database.js";
import { expiringKeyRepo } from "./expiring-key-repo.js";
import type { Keyring } from "./keyring.js";
import { openDatabase } from "./open-database.js";
import { createStore } from "./store.js";
import { adminDatabaseUrl } from "./test-database.js";

/** The ring createStore makes of `keyId: "k1"` and this audit key. */
const ringOf = (key: Buffer): Keyring => ({ current: { id: "k1", key }, previous: [] });

const key = Buffer.alloc(32, 7);
const now = new Date("2026-11-23T10:00:00.000Z");

/** Runs statements as the test server's administrator. */
async function asAdmin(...statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    for (const statement of statements) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** The server's URL, logged in as `role`, on `database`. */
function urlAs(role: string, database: string): string {
  const url = new URL(adminDatabaseUrl());
  url.username = role;
  url.password = "";
  url.pathname = `/${database}`;
  return url.toString();
}

// The production set-up from the README: an owner that migrates, and an app role that owns nothing.
describe("an application role that does not own the tables", () => {
  const suffix = randomBytes(5).toString("hex");
  const owner = `lh_owner_${suffix}`;
  const app = `lh_app_${suffix}`;
  const database = `lh_roles_${suffix}`;
  let db: Database;

  beforeAll(async () => {
    await asAdmin(
      `CREATE ROLE ${owner} LOGIN`,
      `CREATE ROLE ${app} LOGIN`,
      `CREATE DATABASE ${database} OWNER ${owner}`,
    );
    db = await openDatabase({
      databaseUrl: urlAs(app, database),
      migrationUrl: urlAs(owner, database),
      dataDir: "unused",
    });
  });
  afterAll(async () => {
    await db?.close();
    await asAdmin(
      `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
      `DROP ROLE ${app}`,
      `DROP ROLE ${owner}`,
    );
  });

  it("writes a request, its grant and their audit events, and the chain verifies", async () => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    const requestId = randomUUID();
    const grant = newGrant({
      id: randomUUID(),
      requestId,
      targetId: "prod",
      principalId: "dev@example.com",
      durationSeconds: 900,
      now,
    });
    await store.transaction(async (repos) => {
      await repos.requests.insert({
        id: requestId,
        targetId: "prod",
        requesterId: "dev@example.com",
        reason: "investigate",
        ticket: null,
        durationSeconds: 900,
        scopes: [],
        requiredApprovals: 1,
        state: "pending",
        createdAt: now,
        pendingUntil: new Date(now.getTime() + 3_600_000),
        decidedAt: null,
        escalationLevel: 0,
        escalateAt: null,
        breakGlass: false,
      });
      await repos.audit.append(
        {
          actor: "dev@example.com",
          action: "request.created",
          subjectType: "request",
          subjectId: requestId,
          data: {
            targetId: "prod",
            durationSeconds: 900,
            ticket: null,
            reason: "investigate",
            policies: [],
            scopes: [],
          },
        },
        now,
      );
    });
    await store.transaction(async (repos) => {
      expect(await repos.requests.decide(requestId, "approved", now)).toBe(true);
      await repos.grants.insert(grant);
      await repos.audit.append(
        {
          actor: "system:test",
          action: "grant.created",
          subjectType: "grant",
          subjectId: grant.id,
          data: { requestId, targetId: "prod", durationSeconds: 900 },
        },
        now,
      );
      await repos.notifications.advanceCursor("slack", 2);
    });
    expect(await auditLog(db, ringOf(key)).verify()).toMatchObject({ ok: true, events: 2 });
  });

  it("reads a grant for its credential's delivery under a row lock (FOR SHARE needs its UPDATE grant)", async () => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    const grant = newGrant({
      id: randomUUID(),
      requestId: null,
      targetId: "prod",
      principalId: "app@example.com",
      durationSeconds: 900,
      now,
    });
    await store.transaction((repos) => repos.grants.insert(grant));
    const read = await store.transaction((repos) => repos.grants.lockForDelivery(grant.id));
    expect(read).toMatchObject({
      grant: { id: grant.id, state: "issuing" },
      sealed: true,
      credential: undefined,
    });
  });

  it("appends a checkpoint over the locked head and finds the latest one (FOR UPDATE on its column grant)", async () => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    const before = await store.read((repos) => repos.audit.latestSeq());
    const event = await store.transaction((repos) =>
      repos.audit.appendOverHead(
        (head) => ({
          actor: "system:checkpoint",
          action: "audit.checkpoint",
          subjectType: "audit",
          subjectId: String(head.seq),
          data: {
            seq: head.seq,
            hash: head.hash,
            at: now.toISOString(),
            keyId: "0".repeat(16),
            signature: `${"A".repeat(86)}==`,
          },
        }),
        now,
      ),
    );
    expect(event).toMatchObject({ seq: before + 1, subjectId: String(before) });
    expect(await store.read((repos) => repos.audit.latestOf("audit.checkpoint"))).toEqual({
      seq: before + 1,
      at: now,
    });
    expect((await auditLog(db, ringOf(key)).verify()).ok).toBe(true);
  });

  it("records a pre-approval window and withdraws it", async () => {
    const store = createStore(db, { keyId: "k1", auditKey: key, grantKey: Buffer.alloc(32, 2) });
    const window = {
      id: randomUUID(),
      targetId: "prod",
      principalId: "dev@example.com",
      approverId: "alice@example.com",
      reason: "maintenance",
      startsAt: now,
      endsAt: new Date(now.getTime() + 3_600_000),
      createdAt: now,
      revokedAt: null,
      revokedBy: null,
    };
    await store.transaction((repos) => repos.preApprovals.insert(window));
    const revoked = await store.transaction((repos) =>
      repos.preApprovals.revoke(window.id, "alice@example.com", now),
    );
    expect(revoked).toMatchObject({ revokedAt: now, revokedBy: "alice@example.com" });
  });

  it("claims, counts and sweeps expiring keys (the PostgreSQL-only mode's replay cache and rate limits)", async () => {
    const keys = expiringKeyRepo(db);
    expect(await keys.claim("replay:1", 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // This write deletes the expired claim above.
    expect(await keys.increment("rate:1", 60_000)).toMatchObject({ count: 1 });
    expect(await db.query("SELECT key FROM expiring_keys")).toEqual([{ key: "rate:1" }]);
  });

  it.each([
    ["UPDATE", "UPDATE audit_events SET actor = 'mallory'"],
    ["DELETE", "DELETE FROM audit_events"],
    ["TRUNCATE", "TRUNCATE audit_events"],
    ["ALTER TABLE", "ALTER TABLE audit_events DISABLE TRIGGER USER"],
    ["DROP TRIGGER", "DROP TRIGGER audit_events_no_update ON audit_events"],
    ["DROP TABLE", "DROP TABLE grants"],
    ["CREATE TABLE", "CREATE TABLE shadow (id integer)"],
    ["DELETE (grants)", "DELETE FROM grants"],
    ["UPDATE (audit_head id)", "UPDATE audit_head SET id = 2"],
    ["DELETE (pre_approvals)", "DELETE FROM pre_approvals"],
    ["UPDATE (a pre-approval's window)", "UPDATE pre_approvals SET ends_at = ends_at + interval '1 day'"],
  ])("refuses %s on its own connection", async (_name, statement) => {
    await expect(db.query(statement)).rejects.toMatchObject({ code: "42501" });
  });

  it("starts without the owner's URL once the schema is current, and changes nothing", async () => {
    const again = await openDatabase({ databaseUrl: urlAs(app, database), dataDir: "unused" });
    await again.close();
  });

  it("is refused as its own migrating owner: nothing would be separated", async () => {
    const start = openDatabase({
      databaseUrl: urlAs(owner, database),
      migrationUrl: urlAs(owner, database),
      dataDir: "unused",
    });
    await expect(start).rejects.toThrow(/may act as, the role "lh_owner_\w+" that DATABASE_MIGRATION_URL/);
  });
});

describe("an application role on a schema that needs migrating", () => {
  it("says to set DATABASE_MIGRATION_URL", async () => {
    const suffix = randomBytes(5).toString("hex");
    const [app, database] = [`lh_app_${suffix}`, `lh_roles_${suffix}`];
    await asAdmin(`CREATE ROLE ${app} LOGIN`, `CREATE DATABASE ${database}`);
    try {
      const start = openDatabase({ databaseUrl: urlAs(app, database), dataDir: "unused" });
      await expect(start).rejects.toThrow(/set DATABASE_MIGRATION_URL to the owner role's URL/);
      // Nothing was created on its behalf.
      const admin = openPostgres(urlAs("postgres", database), { maxConnections: 1 });
      expect(await admin.query("SELECT to_regclass('grants') AS t")).toEqual([{ t: null }]);
      await admin.close();
    } finally {
      await asAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, `DROP ROLE ${app}`);
    }
  });
});
