import type { Grant } from "@leasehold/domain";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { POSTGRES_ACL_LOCK } from "./postgres-admin.js";
import { createSqlProvider, type SqlProvider } from "./sql-provider.js";
import { type SqlTarget, sqlTargetSchema } from "./sql-schemas.js";
import { grantFor } from "./test-grant.js";

/** Generous: the machine is shared, and the lease hashes before it reaches the statement. */
const WAIT = { timeout: 15_000, interval: 20 };

/**
 * PostgreSQL runs PBKDF2 inside CREATE ROLE even when given a verifier, so the engine creates the role
 * before it takes the lock that serializes GRANTs: the lock covers the GRANTs and the commit only.
 */
describe("the PostgreSQL engine's ACL lock", () => {
  let scratch: SqlScratch;
  let target: SqlTarget;
  let provider: SqlProvider;
  beforeAll(async () => {
    scratch = await createSqlScratch("postgres");
    target = sqlTargetSchema.parse(scratch.targetConfig());
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl, maxConnectionsPerTarget: 10 });
  });
  afterAll(async () => {
    await provider?.close?.();
    await scratch?.drop();
  });

  const issue = (grant: Grant) =>
    provider.issue({ grant, target, approval: null, checkpoint: async () => undefined });

  it("is awaited after CREATE ROLE ran and before the GRANT", async () => {
    // Advisory locks belong to a database: hold Leasehold's in the scratch one.
    const holder = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:5432/${scratch.database}`,
    });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(POSTGRES_ACL_LOCK);
      const leasing = issue(grantFor(scratch.grantId()));
      // The lease's backend waits for the lock while its transaction already holds pg_authid's
      // row-exclusive lock: CREATE ROLE has run.
      await vi.waitFor(async () => {
        const { rows } = await holder.query<{ created: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks r WHERE r.pid = w.pid AND r.relation = 'pg_authid'::regclass
                           AND r.mode = 'RowExclusiveLock' AND r.granted) AS created
             FROM pg_locks w WHERE w.locktype = 'advisory' AND NOT w.granted
              AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        expect(rows).toEqual([{ created: true }]);
      }, WAIT);
      await holder.query("ROLLBACK");
      const issued = await leasing;
      const session = await scratch.login(issued.secret.url ?? "");
      try {
        await session.query(`SELECT item FROM ${scratch.orders}`);
      } finally {
        await session.close();
      }
    } finally {
      await holder.end();
    }
  });

  it("still serializes the GRANTs: ten leases at once all succeed and all may read", async () => {
    const issued = await Promise.all(Array.from({ length: 10 }, () => issue(grantFor(scratch.grantId()))));
    const names = issued.map((i) => i.secret.username ?? "");
    const rows = await scratch.superuser(
      "SELECT count(*)::int AS n FROM unnest($1::text[]) AS r(name) WHERE has_table_privilege(r.name, 'orders', 'SELECT')",
      [names],
    );
    expect(rows).toEqual([{ n: 10 }]);
  });
});
