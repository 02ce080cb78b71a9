import {
  type AwsSandbox,
  type OidcIssuer,
  startAwsSandbox,
  startOidcIssuer,
  startVaultSandbox,
  type VaultSandbox,
} from "@leasehold/sandbox";
import {
  createScratchDatabases,
  type PrivatePostgres,
  type PrivateRedis,
  queueBackends,
  ROLE_ARN,
  type ScratchDatabases,
  startPrivatePostgres,
  startPrivateRedis,
  tokenFor,
  tryAs,
} from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MariaDbSaboteur, startMariaDbSaboteur } from "./mariadb-saboteur.js";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * Fault injection with real processes: the API and worker as child processes, on a PostgreSQL server
 * and a Redis server of the test's own (so they can be crashed, flushed and restarted), with the STS
 * and Vault stand-ins misbehaving on cue. After every fault the same invariants are checked: no grant
 * lost, none issued twice, none active past its deadline plus the sweep interval, every grant ended
 * on time unless its deadline fell inside an outage of the database or the worker, and the audit
 * chain verifies.
 */
const SWEEP_SECONDS = 1;
/** Scheduling and process slack on a busy 2-core machine, on top of the sweep interval. */
const SLACK_MS = 2000;
/**
 * After an outage, work it interrupted is taken up again after 4 sweep intervals: stalled issues are
 * enqueued again, and revocation debt rests that long before the sweep retries it.
 */
const RECOVERY_MS = 4 * SWEEP_SECONDS * 1000;
/** Sessions are issued 890 s old, so a 900-second grant ends ~10 s after it is issued. */
const SESSION_AGE_ON_ISSUE = 890;
const WORKLOAD_SUBJECT = "system:serviceaccount:orders:api";

const config = (workloadIssuer: string, mysqlDatabase: string) => `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
  - name: k8s
    kind: workload
    issuer: "${workloadIssuer}"
    audience: leasehold
admins:
  groups: [security]
targets:
  - id: prod
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 1
    maxDuration: 1h
    defaultDuration: 15m
    aws:
      roleArn: ${ROLE_ARN}
  - id: orders-vault
    kind: vault
    maxDuration: 1h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", maxTtl: 1h }
    vault: { path: database/creds/orders }
  - id: orders-my
    kind: sql
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 1
    maxDuration: 1h
    defaultDuration: 15m
    sql:
      engine: mysql
      adminUrlEnv: ORDERS_MY_ADMIN_URL
      creationStatements:
        - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
        - GRANT SELECT ON ${mysqlDatabase}.orders TO '{{name}}'@'%'
`;

/** The start of every MariaDB user name of a grant's attempts: `lh_<16 hex of the grant id>_a<n>`. */
const userPrefix = (grantId: string) => `lh_${grantId.replaceAll("-", "").slice(0, 16)}_a`;

/** A time span during which a part the deadlines depend on was down. */
type Outage = { from: number; to: number };

/**
 * On each queue backend: the crash and queue-loss scenarios run on both; those about Redis itself, the
 * upstreams and the target databases, which the queue backend does not change, run once (Redis).
 */
describe.each(queueBackends)(
  "fault injection (%s queues): crashes, lost queue state, database restarts, upstream failures",
  (backend) => {
    const onRedisQueuesOnly = it.runIf(backend === "redis");
    let aws: AwsSandbox;
    let vault: VaultSandbox;
    let people: OidcIssuer;
    let workloads: OidcIssuer;
    let scratch: ScratchDatabases;
    let redis: PrivateRedis;
    let postgres: PrivatePostgres;
    let stack: Stack;
    let maria: MariaDbSaboteur;
    /** Set by a test to act at the moment STS has issued but the worker has not heard. */
    let onIssued: (() => Promise<void>) | undefined;
    /** Every grant the service promised (an approval answered with a grant id, a lease returned). */
    const promised = new Set<string>();
    const outages: Outage[] = [];

    beforeAll(async () => {
      [aws, people, workloads, scratch, redis, postgres] = await Promise.all([
        startAwsSandbox({
          roles: [{ arn: ROLE_ARN }],
          sessionAgeOnIssueSeconds: SESSION_AGE_ON_ISSUE,
          beforeAssumeRoleResponse: async () => {
            const act = onIssued;
            onIssued = undefined;
            await act?.();
          },
        }),
        startOidcIssuer(),
        startOidcIssuer(),
        createScratchDatabases(),
        startPrivateRedis(),
        startPrivatePostgres(),
      ]);
      vault = await startVaultSandbox({
        databaseRoles: [
          {
            name: "orders",
            engine: "postgres",
            connectionUrl: scratch.pgUrl,
            creationStatements: [
              `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
              `GRANT SELECT ON orders TO "{{name}}"`,
            ],
            revocationStatements: [`DROP OWNED BY "{{name}}"`, `DROP ROLE IF EXISTS "{{name}}"`],
            defaultTtlSeconds: 3600,
            maxTtlSeconds: 7200,
            terminateSessionsOnRevoke: true,
          },
        ],
      });
      maria = await startMariaDbSaboteur(scratch.mysqlUrl, scratch.mysqlName);
      stack = await startStack({
        sandbox: aws,
        issuerUrl: people.url,
        config: config(workloads.url, scratch.mysqlName),
        sweepIntervalSeconds: SWEEP_SECONDS,
        jobLockSeconds: 2,
        redisUrl: redis.url,
        queueBackend: backend,
        databaseAdminUrl: postgres.adminUrl,
        env: {
          VAULT_ADDR: vault.url,
          VAULT_TOKEN: vault.rootToken,
          ORDERS_MY_ADMIN_URL: maria.url,
        },
      });
    }, 120_000);

    afterEach(async ({ task }) => {
      // What the processes said is the first thing to read when a fault test fails.
      if (task.result?.state === "fail") console.log(stack?.output().split("\n").slice(-80).join("\n"));
      onIssued = undefined;
      await redis.start(); // a failed test may have left it down
      await maria?.releaseGrantTables(); // and MariaDB's account changes held
      maria?.disarm();
    });

    afterAll(async () => {
      await stack?.stop();
      await vault?.revokeAllLeases();
      await Promise.all([vault?.close(), aws?.close(), people?.close(), workloads?.close(), maria?.close()]);
      await Promise.all([redis?.stop(), postgres?.destroy(), scratch?.drop()]);
    });

    const as = async (who: "dev" | "alice" | "sec") => stack.client(await tokenFor(people, who));
    const workload = async () =>
      stack.client(await workloads.mint({ sub: WORKLOAD_SUBJECT }, { audience: "leasehold" }));

    /** dev asks for the target, alice approves; resolves with the grant id the approval promised. */
    const approvedGrant = async (targetId = "prod"): Promise<string> => {
      const request = await (await as("dev")).requests.create.mutate({
        targetId,
        durationSeconds: 900,
        reason: "fault injection",
      });
      const approved = await (await as("alice")).reviews.submit.mutate({
        requestId: request.id,
        decision: "approve",
      });
      expect(approved.grantId).toBeTruthy();
      promised.add(approved.grantId ?? "");
      return approved.grantId ?? "";
    };

    const grantRow = async (id: string) =>
      (
        await stack.db.query<{ state: string; expires_at: Date | null; ended_at: Date | null }>(
          "SELECT state, expires_at, ended_at FROM grants WHERE id = $1",
          [id],
        )
      )[0];
    const whenState = (id: string, states: string[], timeoutMs = 40_000) =>
      eventually(
        async () => {
          const row = await grantRow(id);
          return row && states.includes(row.state) ? row : undefined;
        },
        timeoutMs,
        `grant ${id} to be ${states.join(" or ")}`,
      );

    /** Runs `work` with the part down, recording the outage for the lateness check. */
    const during = async (down: () => Promise<void>, up: () => Promise<void>, work: () => Promise<void>) => {
      const from = Date.now();
      await down();
      try {
        await work();
      } finally {
        await up();
        outages.push({ from, to: Date.now() });
      }
    };

    /**
     * The invariants, over every grant the stack holds. A deadline inside an outage may be missed by as
     * much as the rest of the outage; every other one by at most the sweep interval plus slack.
     */
    const checkInvariants = async () => {
      const unsettled = await eventually(
        async () => {
          const rows = await stack.db.query<{ id: string }>(
            "SELECT id FROM grants WHERE state IN ('issuing', 'revoking')",
          );
          return rows.length === 0 ? rows : undefined;
        },
        40_000,
        "no grant to be issuing or revoking",
      );
      expect(unsettled).toEqual([]);

      const grants = await stack.db.query<{
        id: string;
        state: string;
        request_id: string | null;
        expires_at: Date | null;
        ended_at: Date | null;
        issued: string;
      }>(
        `SELECT g.id, g.state, g.request_id, g.expires_at, g.ended_at,
              (SELECT count(*) FROM audit_events a
                WHERE a.subject_id = g.id::text AND a.action = 'grant.issued')::text AS issued
         FROM grants g`,
      );
      const byId = new Map(grants.map((g) => [g.id, g]));
      // No grant lost: every promised grant exists and was issued exactly once (or failed visibly).
      for (const id of promised) {
        const grant = byId.get(id);
        expect(grant, `promised grant ${id}`).toBeDefined();
        expect(grant?.issued, `grant.issued events of ${id}`).toBe(grant?.state === "failed" ? "0" : "1");
      }
      // One grant per approved request.
      const approvedWithoutGrant = await stack.db.query(
        `SELECT r.id FROM access_requests r LEFT JOIN grants g ON g.request_id = r.id
        WHERE r.state = 'approved' AND g.id IS NULL`,
      );
      expect(approvedWithoutGrant).toEqual([]);

      const now = Date.now();
      const allowedLateness = (deadline: number) => {
        const overlapping = outages.filter(
          (o) => deadline <= o.to && deadline >= o.from - SWEEP_SECONDS * 1000,
        );
        const recovery =
          overlapping.length === 0 ? 0 : Math.max(...overlapping.map((o) => o.to - deadline)) + RECOVERY_MS;
        return recovery + SWEEP_SECONDS * 1000 + SLACK_MS;
      };
      for (const grant of grants) {
        const deadline = grant.expires_at?.getTime();
        if (deadline === undefined) continue;
        if (grant.state === "active") {
          expect(now - deadline, `active grant ${grant.id} past its deadline`).toBeLessThanOrEqual(
            allowedLateness(deadline),
          );
        }
        if (grant.state === "expired") {
          const lateness = (grant.ended_at?.getTime() ?? now) - deadline;
          expect(lateness, `lateness of grant ${grant.id}`).toBeLessThanOrEqual(allowedLateness(deadline));
        }
      }

      // Every extra STS session (an attempt the worker never heard back from) is denied.
      for (const session of aws.issued) {
        const id = /^lh-(.+)-a(\d+)$/.exec(session.roleSessionName)?.[1];
        const grant = id ? byId.get(id) : undefined;
        if (!id || !grant) continue;
        const ref = (
          await stack.db.query<{ session: string | null }>(
            "SELECT provider_ref->>'sessionName' AS session FROM grants WHERE id = $1",
            [id],
          )
        )[0]?.session;
        if (session.roleSessionName === ref) continue;
        // Denied as an interrupted attempt (by its session name), or with its whole grant, revoked.
        const policies = aws.rolePolicies("ProdReadOnly");
        const denied =
          policies[`leasehold-discard-${id}`]?.includes(session.roleSessionName) ||
          (grant.state === "revoked" && policies["leasehold-denials"]?.includes(id));
        expect(denied, `a deny for the lost session ${session.roleSessionName}`).toBe(true);
      }

      // Vault holds no unrevoked lease but those of active grants.
      await vault.whenIdle();
      const activeLeases = new Set(
        (
          await stack.db.query<{ lease: string }>(
            "SELECT provider_ref->>'leaseId' AS lease FROM grants WHERE state = 'active' AND target_id = 'orders-vault'",
          )
        ).map((r) => r.lease),
      );
      const now2 = Date.now();
      const strays = vault
        .leases()
        .filter((l) => !l.revoked && !activeLeases.has(l.id) && l.expireTime.getTime() > now2);
      expect(strays.map((l) => l.id)).toEqual([]);

      // MariaDB holds one user per active orders-my grant and none of any other grant: an interrupted
      // attempt's user is dropped. Users are server-wide; the grant id in the name tells ours apart.
      const sqlGrants = await stack.db.query<{ id: string; state: string; username: string | null }>(
        "SELECT id, state, provider_ref->>'username' AS username FROM grants WHERE target_id = 'orders-my'",
      );
      const mariaUsers = (await scratch.leasedRoles()).mysql;
      for (const grant of sqlGrants) {
        expect(
          mariaUsers.filter((u) => u.startsWith(userPrefix(grant.id))),
          `MariaDB users of ${grant.id}`,
        ).toEqual(grant.state === "active" ? [grant.username] : []);
      }

      const verification = await (await as("sec")).audit.verify.query();
      expect(verification).toMatchObject({ ok: true });
    };

    it("a worker killed after the STS call and before the commit issues once, and denies the lost session", async () => {
      let killedAt = 0;
      const killed = new Promise<void>((resolve) => {
        onIssued = async () => {
          killedAt = Date.now();
          stack.killWorker();
          await stack.workerExited();
          resolve();
        };
      });
      const grantId = await approvedGrant();
      await killed;
      expect(
        aws.issued.filter((s) => s.roleSessionName.includes(grantId)).map((s) => s.roleSessionName),
      ).toEqual([`lh-${grantId}-a1`]);
      expect((await grantRow(grantId))?.state).toBe("issuing");

      await stack.startWorker();
      outages.push({ from: killedAt, to: Date.now() });
      await whenState(grantId, ["active"]);
      const policy = aws.rolePolicies("ProdReadOnly")[`leasehold-discard-${grantId}`];
      expect(JSON.parse(policy ?? "null")?.Statement?.[0]).toMatchObject({
        Effect: "Deny",
        Condition: { StringLike: { "aws:userid": [`*:lh-${grantId}-a1`] } },
      });
      await checkInvariants();
    }, 90_000);

    onRedisQueuesOnly(
      "Redis killed and brought back empty: deadlines are kept without it, and approvals made meanwhile are issued",
      async () => {
        const before = [await approvedGrant(), await approvedGrant()];
        await Promise.all(before.map((id) => whenState(id, ["active"])));
        let approvedMeanwhile = "";
        // Redis is not an outage for deadlines: the sweep expires grants from the database alone.
        const from = Date.now();
        await redis.kill();
        try {
          approvedMeanwhile = await approvedGrant();
          await Promise.all(before.map((id) => whenState(id, ["expired"], 30_000)));
          expect((await grantRow(approvedMeanwhile))?.state).toBe("issuing");
        } finally {
          await redis.start();
        }
        expect(Date.now() - from).toBeGreaterThan(5000);
        await whenState(approvedMeanwhile, ["active"]);
        await checkInvariants();
      },
      120_000,
    );

    it("the queue store loses every job (Redis flushed, queue tables truncated): the sweep ends the grants on time", async () => {
      const grants = [await approvedGrant(), await approvedGrant()];
      await Promise.all(grants.map((id) => whenState(id, ["active"])));
      if (backend === "redis") {
        await redis.flushAll();
        expect(await stack.redis.keys(`${stack.queuePrefix}:grant-expire:*`)).toEqual([]);
      } else {
        await stack.loseQueuedJobs();
      }
      await Promise.all(grants.map((id) => whenState(id, ["expired"], 30_000)));
      const after = await approvedGrant();
      await whenState(after, ["active"]);
      await checkInvariants();
    }, 90_000);

    it("PostgreSQL crashes and restarts around deadlines and an issue in flight: calls fail clearly, nothing is lost", async () => {
      const grants = [await approvedGrant(), await approvedGrant()];
      const rows = await Promise.all(grants.map((id) => whenState(id, ["active"])));
      // Crash two seconds before the first deadline, with an approval's issue just handed to the worker.
      const firstDeadline = Math.min(
        ...rows.map((r) => r?.expires_at?.getTime() ?? Number.POSITIVE_INFINITY),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstDeadline - Date.now() - 2000)));
      const inFlight = await approvedGrant();
      const dev = await as("dev");
      await during(
        () => postgres.crash(),
        () => postgres.start(),
        async () => {
          await expect(dev.grants.list.query({})).rejects.toThrow();
          await new Promise((resolve) => setTimeout(resolve, 5000));
        },
      );
      await eventually(async () => ((await dev.grants.list.query({})) ? true : undefined), 30_000, "the API");
      await whenState(inFlight, ["active"]);
      await Promise.all(grants.map((id) => whenState(id, ["expired"], 30_000)));
      await checkInvariants();
    }, 120_000);

    onRedisQueuesOnly(
      "STS throttles and fails, IAM fails: the grant is issued once and revoked",
      async () => {
        aws.injectFault({ service: "sts", action: "AssumeRole", status: 400, code: "Throttling", times: 3 });
        aws.injectFault({
          service: "sts",
          action: "AssumeRole",
          status: 500,
          code: "InternalFailure",
          times: 2,
        });
        const grantId = await approvedGrant();
        await whenState(grantId, ["active"]);
        expect(
          aws.calls.filter((c) => c.action === "AssumeRole" && c.status >= 400).length,
        ).toBeGreaterThanOrEqual(5);

        aws.injectFault({
          service: "iam",
          action: "PutRolePolicy",
          status: 500,
          code: "ServiceFailure",
          times: 2,
        });
        await (await as("dev")).grants.revoke.mutate({ grantId });
        await whenState(grantId, ["revoked"]);
        expect(aws.rolePolicies("ProdReadOnly")["leasehold-denials"]).toContain(grantId);
        await checkInvariants();
      },
      90_000,
    );

    onRedisQueuesOnly(
      "STS down for 60 s: an approval made meanwhile waits, says why, and is issued once STS is back",
      async () => {
        let grantId = "";
        await during(
          () => aws.goDown(),
          () => aws.comeBack(),
          async () => {
            grantId = await approvedGrant();
            // Past the issue job's own retries (about 30 s): the sweep keeps queueing it again.
            await new Promise((resolve) => setTimeout(resolve, 60_000));
            const [waiting] = await stack.db.query<{ state: string; last_error: string | null }>(
              "SELECT state, last_error FROM grants WHERE id = $1",
              [grantId],
            );
            expect(waiting?.state).toBe("issuing");
            expect(waiting?.last_error).toMatch(/failed: .*retrying until /);
          },
        );
        await whenState(grantId, ["active"]);
        expect(aws.issued.filter((s) => s.roleSessionName.includes(grantId))).toHaveLength(1);
        await checkInvariants();
      },
      150_000,
    );

    onRedisQueuesOnly(
      "Vault sealed: a lease is refused clearly, and a lease past its deadline is revoked once Vault is back",
      async () => {
        const app = await workload();
        const leased = await app.leases.create.mutate({ targetId: "orders-vault", ttlSeconds: 10 });
        if (leased.credential.kind !== "database") throw new Error("expected a database login");
        promised.add(leased.grant.id);
        const leaseId = (
          await stack.db.query<{ lease: string }>(
            "SELECT provider_ref->>'leaseId' AS lease FROM grants WHERE id = $1",
            [leased.grant.id],
          )
        )[0]?.lease;
        await during(
          async () => vault.setMode("sealed"),
          async () => vault.setMode("active"),
          async () => {
            await expect(
              app.leases.create.mutate({ targetId: "orders-vault", ttlSeconds: 10 }),
            ).rejects.toThrow(/sealed/);
            await whenState(leased.grant.id, ["revocation_failed"], 30_000);
          },
        );
        await whenState(leased.grant.id, ["expired"], 30_000);
        await vault.whenIdle();
        expect(vault.leases().find((l) => l.id === leaseId)).toMatchObject({ revoked: true });
        expect(await scratch.roleExists("postgres", leased.credential.username ?? "")).toBe(false);
        const failed = await stack.db.query<{ state: string }>(
          "SELECT state FROM grants WHERE target_id = 'orders-vault' AND id <> $1",
          [leased.grant.id],
        );
        expect(failed).toEqual([{ state: "failed" }]);
        await checkInvariants();
      },
      120_000,
    );
    onRedisQueuesOnly(
      "MariaDB admin connection killed mid-CREATE USER, mid-clean-up and mid-DROP USER: issued once, revoked, nothing left behind",
      async () => {
        const dev = await as("dev");
        let grantId = "";
        const killed: string[] = [];
        try {
          await maria.holdGrantTables();
          grantId = await approvedGrant("orders-my");
          // The first attempt dies inside CREATE USER; its clean-up (DROP USER of the same name) dies too.
          killed.push(await maria.killBlocked("CREATE USER"));
          killed.push(await maria.killBlocked("DROP USER"));
        } finally {
          await maria.releaseGrantTables();
        }
        expect(killed).toEqual([`${userPrefix(grantId)}1`, `${userPrefix(grantId)}1`]);

        await whenState(grantId, ["active"]);
        const [issued] = await stack.db.query<{ username: string; attempts: number }>(
          "SELECT provider_ref->>'username' AS username, issue_attempts AS attempts FROM grants WHERE id = $1",
          [grantId],
        );
        expect(issued?.attempts).toBeGreaterThan(1);
        const username = issued?.username ?? "";
        expect(username).toBe(`${userPrefix(grantId)}${issued?.attempts}`);
        const { credential } = await dev.grants.credentials.mutate({ grantId });
        if (credential.kind !== "database") throw new Error("expected a database login");
        expect(await tryAs("mysql", credential, scratch.mysqlName, "SELECT total FROM orders")).toBe("ok");
        expect((await scratch.leasedRoles()).mysql.filter((u) => u.startsWith(userPrefix(grantId)))).toEqual([
          username,
        ]);

        try {
          await maria.holdGrantTables();
          await dev.grants.revoke.mutate({ grantId });
          // Revocation drops every attempt's user in turn, so the first DROP USER (the one killed) may
          // name an earlier attempt's; either way the live user is still there when it dies.
          expect(await maria.killBlocked("DROP USER")).toMatch(new RegExp(`^${userPrefix(grantId)}\\d+$`));
        } finally {
          await maria.releaseGrantTables();
        }
        await whenState(grantId, ["revoked"]);
        expect(await scratch.roleExists("mysql", username)).toBe(false);
        expect(await tryAs("mysql", credential, scratch.mysqlName, "SELECT 1")).toMatch(/^ER_ACCESS_DENIED/);
        // Retried by the revoke job itself: the grant never became revocation debt.
        const debt = await stack.db.query(
          "SELECT 1 FROM audit_events WHERE subject_id = $1 AND action = 'grant.revocation_failed'",
          [grantId],
        );
        expect(debt).toEqual([]);
        await checkInvariants();
      },
      90_000,
    );
    onRedisQueuesOnly(
      "MariaDB connection cut after CREATE USER and again in its clean-up: the user left behind is dropped, the grant issued once",
      async () => {
        const dev = await as("dev");
        const cutInGrant = maria.cutOnNext("GRANT");
        const cutInCleanUp = maria.cutOnNext("DROP USER");
        const grantId = await approvedGrant("orders-my");
        const first = `${userPrefix(grantId)}1`;
        expect(await cutInGrant).toBe(first);
        expect(await cutInCleanUp).toBe(first);
        // The first attempt's user exists and nothing in that attempt could remove it; the job's retry
        // (a second later: the issue queue's backoff) must drop it before it creates its own.
        expect(await scratch.roleExists("mysql", first)).toBe(true);

        await whenState(grantId, ["active"]);
        expect(await scratch.roleExists("mysql", first)).toBe(false);
        const { credential } = await dev.grants.credentials.mutate({ grantId });
        if (credential.kind !== "database") throw new Error("expected a database login");
        expect(await tryAs("mysql", credential, scratch.mysqlName, "SELECT total FROM orders")).toBe("ok");
        expect((await scratch.leasedRoles()).mysql.filter((u) => u.startsWith(userPrefix(grantId)))).toEqual([
          credential.username,
        ]);

        await dev.grants.revoke.mutate({ grantId });
        await whenState(grantId, ["revoked"]);
        await checkInvariants();
      },
      90_000,
    );
  },
);
