import { randomBytes, randomUUID } from "node:crypto";
import type { Database } from "@leasehold/db";
import { newGrant, UpstreamError } from "@leasehold/domain";
import {
  type CredentialProvider,
  createSqlProvider,
  type SqlTarget,
  sqlRoleName,
  sqlTargetSchema,
} from "@leasehold/providers";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersServiceAccount } from "./test-harness.js";

/**
 * A worker that dies between creating a database role and recording it must not leave a credential
 * behind: the retry removes what the interrupted attempt created before it issues its own. A lease
 * commits twice (its creation with its first attempt counted; its activation with its credential's
 * audited read): a crash before or after either commit leaves at most one usable role.
 */
const ADMIN = "postgres://postgres@127.0.0.1:5432";
const app = ordersServiceAccount;

/** Where a lease's API process dies: around its nth transaction (1: creation, 2: activation). */
type Crash = { readonly transaction: 1 | 2; readonly commit: "before" | "after" };

describe("a crash between the SQL call and the commit", () => {
  const database = `lh_crash_${randomBytes(4).toString("hex")}`;
  let target: SqlTarget;
  let real: CredentialProvider;
  let provider: CredentialProvider;
  let h: Harness;
  /** The issue calls the test fails after the role is created, as a backend timeout would. */
  let failIssues = 0;
  let crash: Crash | undefined;
  let transactions = 0;
  let crashed: () => void = () => {};

  /**
   * The process dies at `crash`: the transaction is rolled back (before) or committed (after), and
   * nothing of the call runs after it (its promise never settles).
   */
  const crashing = (db: Database): Database => ({
    ...db,
    transaction: async (work) => {
      transactions += 1;
      const at = crash?.transaction === transactions ? crash : undefined;
      if (!at) return db.transaction(work);
      crash = undefined;
      if (at.commit === "before") {
        await db
          .transaction(async (tx) => {
            await work(tx);
            throw new Error("the process died before COMMIT");
          })
          .catch(() => undefined);
      } else {
        await db.transaction(work);
      }
      crashed();
      return new Promise<never>(() => {});
    },
  });

  const roleExists = async (name: string) => {
    const client = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await client.connect();
    try {
      return (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).rowCount === 1;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const parsed = sqlTargetSchema.parse({
      id: "orders",
      kind: "sql",
      maxDuration: "1h",
      leases: [{ provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "1h" }],
      sql: {
        engine: "postgres",
        adminUrlEnv: "ORDERS_ADMIN_URL",
        creationStatements: [
          `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
        ],
      },
    });
    if (parsed.kind !== "sql") throw new Error("expected a sql target");
    target = parsed;
    real = createSqlProvider({ adminUrlFor: () => `${ADMIN}/${database}` });
    provider = {
      ...real,
      issue: async (input) => {
        const issued = await real.issue(input);
        if (failIssues === 0) return issued;
        failIssues -= 1;
        throw new UpstreamError("timed out waiting for the server's answer", { retryable: true });
      },
    };
    h = await createHarness("pglite", provider, {
      targets: [target],
      wrapDatabase: crashing,
      reconcile: { batch: 100, stalledAfterSeconds: 60, debtRetryAfterSeconds: 60, releaseAfterSeconds: 300 },
    });
  });
  beforeEach(() => {
    h.clock.now = new Date();
  });
  afterAll(async () => {
    await h.close();
    await real.close?.();
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it("the retry drops the interrupted attempt's role and activates its own", async () => {
    const grantId = randomUUID();
    await h.deps.store.transaction(async (repos) => {
      await repos.grants.insert(
        newGrant({
          id: grantId,
          requestId: null,
          targetId: "orders",
          principalId: app.id,
          durationSeconds: 600,
          now: h.clock.now,
        }),
      );
      // As leases.create records it, so the lease's provenance is in the audit trail.
      await repos.audit.append(
        {
          actor: app.id,
          action: "grant.created",
          subjectType: "grant",
          subjectId: grantId,
          data: { targetId: "orders", durationSeconds: 600, lease: true, rule: app.subject, policies: [] },
        },
        h.clock.now,
      );
    });
    // Attempt 1 creates its role, then the worker dies before the commit.
    const attempt1 = (await h.deps.store.transaction((r) => r.grants.beginIssueAttempt(grantId, h.clock.now)))
      ?.grant;
    if (!attempt1) throw new Error("the attempt should start");
    await real.issue({ grant: attempt1, target, approval: null, checkpoint: async () => {} });
    expect(await roleExists(sqlRoleName(grantId, 1))).toBe(true);

    expect(await h.broker.grants.issue(grantId, { isLast: false })).toBe("issued");
    expect(await roleExists(sqlRoleName(grantId, 1))).toBe(false);
    expect(await roleExists(sqlRoleName(grantId, 2))).toBe(true);
    const grant = await h.deps.store.read((r) => r.grants.findById(grantId));
    expect(grant).toMatchObject({
      state: "active",
      issueAttempts: 2,
      providerRef: { username: sqlRoleName(grantId, 2) },
    });

    await h.broker.grants.revoke(app, { grantId });
    await h.broker.grants.finishRevoke(grantId, { isLast: false });
    expect(await roleExists(sqlRoleName(grantId, 2))).toBe(false);
  });
  const grantIds = async () =>
    new Set((await h.db.query<{ id: string }>("SELECT id FROM grants")).map((row) => row.id));
  const rolesOf = async (grantId: string) => {
    const found: number[] = [];
    for (const attempt of [1, 2, 3]) {
      if (await roleExists(sqlRoleName(grantId, attempt))) found.push(attempt);
    }
    return found;
  };
  const actionsOf = async (grantId: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 100, subjectId: grantId }))).map(
      (event) => event.action,
    );
  /** Starts a lease whose process dies at `at`, and returns once it has died, with its grant if any. */
  const leaseDyingAt = async (at: Crash) => {
    const before = await grantIds();
    const died = new Promise<void>((resolve) => {
      crashed = resolve;
    });
    crash = at;
    transactions = 0;
    void h.broker.leases.create(app, { targetId: "orders" });
    await died;
    return [...(await grantIds())].find((id) => !before.has(id));
  };
  /** The sweep, once the dead call's lease has been issuing past the stall limit. */
  const sweepAfterStall = async () => {
    h.clock.advance(61);
    return h.broker.reconcile.run();
  };
  /** The caller asks again: a new lease, delivered, whose role is its only one. */
  const askAgain = async () => {
    const { grant, credential } = await h.broker.leases.create(app, { targetId: "orders" });
    expect(credential.secret).toMatchObject({ kind: "database", username: sqlRoleName(grant.id, 1) });
    expect(await rolesOf(grant.id)).toEqual([1]);
    await h.broker.grants.revoke(app, { grantId: grant.id });
    await h.broker.grants.finishRevoke(grant.id, { isLast: false });
  };

  it("a lease whose creation does not commit leaves nothing", async () => {
    expect(await leaseDyingAt({ transaction: 1, commit: "before" })).toBeUndefined();
    await askAgain();
  });

  it("a lease that dies after its creation (its first attempt counted) is failed by the sweep, with no role", async () => {
    const grantId = await leaseDyingAt({ transaction: 1, commit: "after" });
    if (!grantId) throw new Error("the lease's creation committed");
    expect(await h.deps.store.read((r) => r.grants.findById(grantId))).toMatchObject({
      state: "issuing",
      issueAttempts: 1,
    });
    expect(await rolesOf(grantId)).toEqual([]);
    expect(await sweepAfterStall()).toMatchObject({ leasesAbandoned: 1 });
    expect((await h.deps.store.read((r) => r.grants.findById(grantId)))?.state).toBe("failed");
    expect(await actionsOf(grantId)).toEqual(["grant.created", "grant.issue_failed"]);
    await askAgain();
  });

  it("a lease that dies before its activation commits: its one role is unread, and the sweep fails it", async () => {
    const grantId = await leaseDyingAt({ transaction: 2, commit: "before" });
    if (!grantId) throw new Error("the lease's creation committed");
    expect(await rolesOf(grantId)).toEqual([1]);
    expect(await h.deps.store.read((r) => r.grants.findById(grantId))).toMatchObject({
      state: "issuing",
      issueAttempts: 1,
    });
    const [row] = await h.db.query<{ credential: Buffer | null }>(
      "SELECT credential FROM grants WHERE id = $1",
      [grantId],
    );
    expect(row?.credential).toBeNull();
    expect(await actionsOf(grantId)).toEqual(["grant.created"]);
    expect(await sweepAfterStall()).toMatchObject({ leasesAbandoned: 1 });
    const failed = await h.deps.store.read((r) => r.grants.findById(grantId));
    expect(failed?.state).toBe("failed");
    // The role may be in use by nobody, but it is Leasehold's until the lease's own duration has passed.
    expect(failed?.expiresAt?.getTime()).toBe(h.clock.now.getTime() + 3600 * 1000);
    await askAgain();
  });

  it("a lease that dies after its activation commits: active, its one role's read audited, revoked like any", async () => {
    const grantId = await leaseDyingAt({ transaction: 2, commit: "after" });
    if (!grantId) throw new Error("the lease's creation committed");
    expect(await rolesOf(grantId)).toEqual([1]);
    expect(await h.deps.store.read((r) => r.grants.findById(grantId))).toMatchObject({
      state: "active",
      issueAttempts: 1,
    });
    expect(await actionsOf(grantId)).toEqual(["grant.created", "grant.issued", "grant.credentials_read"]);
    expect(await sweepAfterStall()).toMatchObject({ leasesAbandoned: 0 });
    await h.broker.grants.revoke(app, { grantId });
    await h.broker.grants.finishRevoke(grantId, { isLast: false });
    expect(await rolesOf(grantId)).toEqual([]);
    await askAgain();
  });

  it("a lease's first attempt, counted at its creation, is dropped by the try after it in the same call", async () => {
    failIssues = 1;
    const { grant, credential } = await h.broker.leases.create(app, { targetId: "orders" });
    expect(failIssues).toBe(0);
    expect(credential.secret).toMatchObject({ username: sqlRoleName(grant.id, 2) });
    expect(await rolesOf(grant.id)).toEqual([2]);
    expect(await actionsOf(grant.id)).toEqual(["grant.created", "grant.issued", "grant.credentials_read"]);
    await h.broker.grants.revoke(app, { grantId: grant.id });
    await h.broker.grants.finishRevoke(grant.id, { isLast: false });
    expect(await rolesOf(grant.id)).toEqual([]);
  });
});
