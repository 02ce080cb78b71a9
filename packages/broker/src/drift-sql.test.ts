import { type Grant, type GrantState, newGrant } from "@leasehold/domain";
import {
  type CredentialProvider,
  createSqlProvider,
  type SqlTarget,
  sqlRoleName,
  sqlTargetSchema,
} from "@leasehold/providers";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test-harness.js";

/**
 * Drift on a native SQL target, on the real servers: Leasehold-named roles with privileges in the
 * target's database that no grant owns are dropped; the roles of active grants, of a grant mid-issue
 * (every attempt), and of revocation debt are left alone.
 */
describe.each(["postgres", "mysql"] as const)("drift reconciliation: %s roles", (engine) => {
  let scratch: SqlScratch;
  let target: SqlTarget;
  let provider: CredentialProvider;
  let h: Harness;

  beforeAll(async () => {
    scratch = await createSqlScratch(engine);
    const parsed = sqlTargetSchema.parse(scratch.targetConfig());
    if (parsed.kind !== "sql") throw new Error("expected a sql target");
    target = parsed;
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
    h = await createHarness("pglite", provider, { targets: [target] });
  });
  afterAll(async () => {
    await h?.close();
    await provider?.close?.();
    await scratch?.drop();
  });

  /** A grant row in `state` (or none at all), with a role created for each of its attempts. */
  const grantWithRoles = async (
    state: GrantState | "unknown",
    attempts: number,
    changes: { endedHoursAgo?: number; releasedHoursAgo?: number; deadlineInHours?: number } = {},
  ): Promise<Grant> => {
    const now = h.clock.now;
    const hours = (n: number) => new Date(now.getTime() + n * 3600_000);
    const fresh = newGrant({
      id: scratch.grantId(),
      requestId: null,
      targetId: target.id,
      principalId: "k8s:app",
      durationSeconds: 600,
      now: changes.endedHoursAgo ? hours(-changes.endedHoursAgo - 1) : now,
    });
    if (state !== "unknown") {
      await h.deps.store.transaction((repos) => repos.grants.insert(fresh));
      await h.db.query(
        `UPDATE grants SET state = $2, issue_attempts = $3, expires_at = $4, ended_at = $5, released_at = $6
          WHERE id = $1`,
        [
          fresh.id,
          state,
          attempts,
          changes.deadlineInHours === undefined ? null : hours(changes.deadlineInHours),
          changes.endedHoursAgo === undefined ? null : hours(-changes.endedHoursAgo),
          changes.releasedHoursAgo === undefined ? null : hours(-changes.releasedHoursAgo),
        ],
      );
    }
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await provider.issue({
        grant: { ...fresh, issueAttempts: attempt },
        target,
        approval: null,
        checkpoint: async () => {},
      });
    }
    return { ...fresh, issueAttempts: attempts };
  };
  const rolesOf = (grant: Grant) =>
    Array.from({ length: grant.issueAttempts }, (_, i) => sqlRoleName(grant.id, i + 1));
  const existing = async (grant: Grant) =>
    (await Promise.all(rolesOf(grant).map((name) => scratch.roleExists(name)))).filter(Boolean).length;

  it("drops the roles no grant owns and keeps the rest", async () => {
    const active = await grantWithRoles("active", 1, { deadlineInHours: 1 });
    const midIssue = await grantWithRoles("issuing", 2);
    const debt = await grantWithRoles("revocation_failed", 1, { deadlineInHours: 1 });
    const revokedJustNow = await grantWithRoles("revoked", 1, { endedHoursAgo: 0, deadlineInHours: 0.1 });
    const released = await grantWithRoles("expired", 1, {
      endedHoursAgo: 3,
      releasedHoursAgo: 2,
      deadlineInHours: -3,
    });
    const failedLongAgo = await grantWithRoles("failed", 2, { endedHoursAgo: 5 });
    const unknown = await grantWithRoles("unknown", 1);

    const report = await h.broker.drift.run();

    expect(report).toMatchObject({
      scanned: 1,
      listFailures: 0,
      unowned: 4,
      corrected: 4,
      removeFailures: 0,
    });
    expect(await existing(active)).toBe(1);
    expect(await existing(midIssue)).toBe(2);
    expect(await existing(debt)).toBe(1);
    expect(await existing(revokedJustNow)).toBe(1);
    expect(await existing(released)).toBe(0);
    expect(await existing(failedLongAgo)).toBe(0);
    expect(await existing(unknown)).toBe(0);

    const events = (
      await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId: target.id }))
    ).filter((e) => e.action === "drift.corrected");
    expect(events.map((e) => e.data.removed).sort()).toEqual(
      [...rolesOf(released), ...rolesOf(failedLongAgo), ...rolesOf(unknown)].sort(),
    );
    expect(events.map((e) => e.actor)).toEqual([
      "system:drift",
      "system:drift",
      "system:drift",
      "system:drift",
    ]);
    expect(events.find((e) => e.data.removed === rolesOf(unknown)[0])?.data).toEqual({
      kind: "sql-role",
      backend: "sql",
      targetId: target.id,
      removed: rolesOf(unknown)[0],
      grantId: null,
      reason: "unknown-grant",
    });
    expect(await h.broker.drift.run()).toMatchObject({ unowned: 0, corrected: 0 });
  });
});
