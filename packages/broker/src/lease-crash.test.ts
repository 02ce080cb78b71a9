import { randomBytes, randomUUID } from "node:crypto";
import { newGrant, type Principal } from "@leasehold/domain";
import {
  type CredentialProvider,
  createSqlProvider,
  type SqlTarget,
  sqlRoleName,
  sqlTargetSchema,
} from "@leasehold/providers";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test-harness.js";

/**
 * A worker that dies between creating a database role and recording it must not leave a credential
 * behind: the retry removes what the interrupted attempt created before it issues its own.
 */
const ADMIN = "postgres://postgres@127.0.0.1:5432";
const app: Principal = {
  id: "k8s:system:serviceaccount:orders:api",
  kind: "workload",
  provider: "k8s",
  subject: "system:serviceaccount:orders:api",
  groups: [],
  claims: {},
};

describe("a crash between the SQL call and the commit", () => {
  const database = `lh_crash_${randomBytes(4).toString("hex")}`;
  let target: SqlTarget;
  let provider: CredentialProvider;
  let h: Harness;

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
    provider = createSqlProvider({ adminUrlFor: () => `${ADMIN}/${database}` });
    h = await createHarness("pglite", provider, { targets: [target] });
  });
  afterAll(async () => {
    await h.close();
    await provider.close?.();
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
    const attempt1 = await h.deps.store.transaction((r) => r.grants.beginIssueAttempt(grantId, h.clock.now));
    if (!attempt1) throw new Error("the attempt should start");
    await provider.issue({ grant: attempt1, target, approval: null, checkpoint: async () => {} });
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
});
