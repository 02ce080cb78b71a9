import { createServer } from "node:net";
import { type Grant, UpstreamError } from "@leasehold/domain";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sqlRoleName } from "./sql-credentials.js";
import { createSqlProvider, type SqlProvider } from "./sql-provider.js";
import { type SqlEngine, type SqlTarget, sqlTargetSchema } from "./sql-schemas.js";
import { grantFor } from "./test-grant.js";

// Every password the provider generates, so tests can look for it where it must not be.
const generated = vi.hoisted(() => [] as string[]);
vi.mock("./sql-credentials.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("./sql-credentials.js")>();
  return {
    ...original,
    generateSqlPassword: () => {
      const password = original.generateSqlPassword();
      generated.push(password);
      return password;
    },
  };
});

const noCheckpoint = async () => undefined;

/** The scratch database's target, parsed like leasehold.yaml's; `sql` overrides its statements. */
const targetOf = (scratch: SqlScratch, sql?: Record<string, unknown>): SqlTarget =>
  sqlTargetSchema.parse(scratch.targetConfig(sql));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Every 6-character piece of each password: a partial echo of one must not survive either. */
const piecesOf = (passwords: readonly string[]) =>
  passwords.flatMap((p) => Array.from({ length: p.length - 5 }, (_, i) => p.slice(i, i + 6)));

describe.each<SqlEngine>(["postgres", "mysql"])("the SQL provider on %s", (engine) => {
  let scratch: SqlScratch;
  let target: SqlTarget;
  let provider: SqlProvider;

  beforeAll(async () => {
    scratch = await createSqlScratch(engine);
    target = targetOf(scratch);
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
  });
  afterAll(async () => {
    await provider?.close?.();
    await scratch?.drop();
  });

  const issue = (grant: Grant, t: SqlTarget = target, p: SqlProvider = provider) =>
    p.issue({ grant, target: t, approval: null, checkpoint: noCheckpoint });

  it("a lease logs in, may read what it was granted, and may not write", async () => {
    const grant = grantFor(scratch.grantId());
    const issued = await issue(grant);
    expect(issued.reference).toEqual({ engine, username: sqlRoleName(grant.id, 1) });
    expect(issued.secret).toMatchObject({
      username: sqlRoleName(grant.id, 1),
      host: "127.0.0.1",
      port: engine === "postgres" ? "5432" : "3306",
      database: scratch.database,
    });
    expect(issued.secret.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await scratch.passwordMatches(issued.secret.username ?? "", issued.secret.password ?? "")).toBe(
      true,
    );

    const session = await scratch.login(issued.secret.url ?? "");
    try {
      const read = (await session.query(`SELECT item FROM ${scratch.orders} ORDER BY id`)) as unknown;
      const rows = engine === "postgres" ? (read as { rows: unknown[] }).rows : (read as [unknown[]])[0];
      expect(rows).toEqual([{ item: "apples" }, { item: "pears" }]);
      const write = await session.query(`INSERT INTO ${scratch.orders} VALUES (3, 'plums')`).catch((e) => e);
      expect(write).toMatchObject(
        engine === "postgres" ? { code: "42501" } : { code: "ER_TABLEACCESS_DENIED_ERROR" },
      );
    } finally {
      await session.close();
    }
  });

  it("the deadline is the grant's duration from now, in whole seconds", async () => {
    const before = Date.now();
    const issued = await issue(grantFor(scratch.grantId(), { durationSeconds: 600 }));
    expect(issued.expiresAt.getMilliseconds()).toBe(0);
    expect(issued.expiresAt.getTime()).toBeGreaterThan(before + 599_000);
    expect(issued.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it("renew moves the end", async () => {
    const grant = grantFor(scratch.grantId());
    const renewTarget =
      engine === "postgres"
        ? target
        : // MySQL has no expiry to move by default; this records the renewal to show it ran.
          targetOf(scratch, {
            renewStatements: [
              `INSERT INTO ${scratch.database}.renewals VALUES ('{{name}}', '{{expiration}}')`,
            ],
          });
    const issued = await issue(grant, renewTarget);
    const later = new Date(issued.expiresAt.getTime() + 3_600_500);
    const renewed = await provider.renew?.({ grant, target: renewTarget, expiresAt: later });
    expect(renewed?.expiresAt).toEqual(new Date(issued.expiresAt.getTime() + 3_600_000));

    const name = issued.secret.username;
    if (engine === "postgres") {
      const [role] = await scratch.superuser("SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", [name]);
      expect(role?.rolvaliduntil).toEqual(renewed?.expiresAt);
    } else {
      const rows = await scratch.superuser(
        `SELECT expiration FROM ${scratch.database}.renewals WHERE name = ?`,
        [name],
      );
      expect(rows).toEqual([{ expiration: `${later.toISOString().slice(0, 19).replace("T", " ")}+00` }]);
    }
  });

  it("revoke ends an open session, refuses new logins and drops the role; twice is fine", async () => {
    const grant = grantFor(scratch.grantId());
    const issued = await issue(grant);
    const session = await scratch.login(issued.secret.url ?? "");
    await session.query("SELECT 1");

    await provider.revoke({ grant, target });
    try {
      await expect(session.query("SELECT 1")).rejects.toThrow();
    } finally {
      await session.close();
    }
    await expect(scratch.login(issued.secret.url ?? "")).rejects.toThrow();
    expect(await scratch.roleExists(issued.secret.username ?? "")).toBe(false);

    await provider.revoke({ grant, target });
    await provider.revoke({ grant: grantFor(scratch.grantId()), target }); // never issued
  });

  it("expire after the deadline drops the role", async () => {
    // Issued two hours ago for one hour: the deadline passed an hour ago.
    const past = createSqlProvider({
      adminUrlFor: () => scratch.adminUrl,
      clock: () => new Date(Date.now() - 7_200_000),
    });
    try {
      const grant = grantFor(scratch.grantId(), { durationSeconds: 3600 });
      const issued = await issue(grant, target, past);
      expect(issued.expiresAt.getTime()).toBeLessThan(Date.now() - 3_500_000);
      expect(await scratch.roleExists(issued.secret.username ?? "")).toBe(true);
      await provider.expire({ grant: { ...grant, state: "active", expiresAt: issued.expiresAt }, target });
      expect(await scratch.roleExists(issued.secret.username ?? "")).toBe(false);
    } finally {
      await past.close?.();
    }
  });

  it("discardEarlierAttempts drops the roles of attempts before the current one, and only those", async () => {
    const id = scratch.grantId();
    const first = await issue(grantFor(id, { issueAttempts: 1 }));
    const second = await issue(grantFor(id, { issueAttempts: 2 }));
    expect(first.secret.username).not.toBe(second.secret.username);

    await provider.discardEarlierAttempts({ grant: grantFor(id, { issueAttempts: 2 }), target });
    expect(await scratch.roleExists(first.secret.username ?? "")).toBe(false);
    expect(await scratch.roleExists(second.secret.username ?? "")).toBe(true);
    const session = await scratch.login(second.secret.url ?? "");
    await session.close();
  });

  it("a retry of the same attempt replaces the role it left behind", async () => {
    const grant = grantFor(scratch.grantId());
    const first = await issue(grant);
    const before = generated.length;
    const again = await issue(grant);
    expect(again.secret.username).toBe(first.secret.username);
    // The CREATE that failed on the leftover (and may sit in the server's log) carried another password.
    const [failedRound, liveRound] = generated.slice(before);
    expect(liveRound).toBe(again.secret.password);
    expect(failedRound).not.toBe(again.secret.password);
    expect(await scratch.passwordMatches(again.secret.username ?? "", again.secret.password ?? "")).toBe(
      true,
    );
    expect(await scratch.passwordMatches(first.secret.username ?? "", first.secret.password ?? "")).toBe(
      false,
    );
  });

  it("neither the secret, the reference nor an error contains the admin password or URL", async () => {
    const grant = grantFor(scratch.grantId());
    const issued = await issue(grant);
    const delivered = JSON.stringify([issued.secret, issued.reference]);
    expect(scratch.adminUrl).toContain(encodeURIComponent(scratch.adminPassword).slice(0, 6));
    for (const secret of [
      scratch.adminPassword,
      encodeURIComponent(scratch.adminPassword),
      scratch.adminUser,
    ]) {
      expect(delivered).not.toContain(secret);
    }
    expect(new URL(issued.secret.url ?? "").username).toBe(issued.secret.username);
  });

  it("an error from a statement that echoes the password shows neither it nor the admin's", async () => {
    // Each fails after the user exists, with the driver quoting the password back (MariaDB quotes
    // up to 80 characters, so the second one shows only the start of it).
    const echoing =
      engine === "postgres"
        ? [[`SELECT '{{password}}'::int`]]
        : [
            [`CREATE USER '{{name}}'@'%' IDENTIFIED BOGUS BY '{{password}}'`],
            [`CREATE USER '{{name}}'@'%' IDENTIFIED BOGUS ${"1".repeat(53)} BY '{{password}}'`],
          ];
    for (const extra of echoing) {
      const bad = targetOf(scratch, { creationStatements: [...target.sql.creationStatements, ...extra] });
      const grant = grantFor(scratch.grantId());
      const before = generated.length;
      const error = await issue(grant, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      const password = generated.slice(before);
      expect(password).toHaveLength(1);
      const text = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).cause)}`;
      expect(text).toContain("***"); // the driver did echo it, and it was blanked
      for (const piece of [...piecesOf(password), scratch.adminPassword, scratch.adminUrl]) {
        expect(text).not.toContain(piece);
      }
      expect(error).toMatchObject({ retryable: false });
      expect(await scratch.roleExists(sqlRoleName(grant.id, 1))).toBe(false);
    }
  });

  it("a statement the database refuses fails for good and leaves no role behind", async () => {
    const bad = targetOf(scratch, {
      creationStatements: [
        target.sql.creationStatements[0],
        engine === "postgres"
          ? `GRANT SELECT ON no_such_table TO "{{name}}"`
          : `GRANT SELECT ON ${scratch.database}.no_such_table TO '{{name}}'@'%'`,
      ],
    });
    const grant = grantFor(scratch.grantId());
    const error = await issue(grant, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      retryable: false,
      upstreamCode: engine === "postgres" ? "42P01" : "ER_NO_SUCH_TABLE",
    });
    expect((error as Error).message).toContain(`sql target ${target.id}`);
    expect(await scratch.roleExists(sqlRoleName(grant.id, 1))).toBe(false);
  });

  it("a refused statement with others after it fails with its own error, not theirs", async () => {
    // On PostgreSQL the statements go out together: those after the refused one are refused too
    // (25P02, the transaction is aborted), and it is the first refusal that says what is wrong.
    const [create, grantSelect] = target.sql.creationStatements;
    const bad = targetOf(scratch, {
      creationStatements: [
        create,
        engine === "postgres"
          ? `GRANT SELECT ON no_such_table TO "{{name}}"`
          : `GRANT SELECT ON ${scratch.database}.no_such_table TO '{{name}}'@'%'`,
        grantSelect,
      ],
    });
    const grant = grantFor(scratch.grantId());
    const error = await issue(grant, bad).catch((e: unknown) => e);
    expect(error).toMatchObject({
      retryable: false,
      upstreamCode: engine === "postgres" ? "42P01" : "ER_NO_SUCH_TABLE",
    });
    expect(await scratch.roleExists(sqlRoleName(grant.id, 1))).toBe(false);
  });

  it("an unreachable admin database is a retryable failure that does not show the admin URL", async () => {
    const scheme = engine === "postgres" ? "postgresql" : "mysql";
    const adminUrl = `${scheme}://admin:S3cret-Admin@127.0.0.1:${await closedPort()}/${scratch.database}`;
    const down = createSqlProvider({ adminUrlFor: () => adminUrl });
    try {
      const grant = grantFor(scratch.grantId());
      for (const attempt of [() => issue(grant, target, down), () => down.revoke({ grant, target })]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamError);
        expect(error).toMatchObject({ retryable: true, upstreamCode: "ECONNREFUSED" });
        expect((error as Error).message).not.toContain("S3cret-Admin");
      }
    } finally {
      await down.close?.();
    }
  });

  it("checks its connection with SELECT 1 on the admin pool; a down database fails retryably, secret-free", async () => {
    await expect(provider.checkConnection?.({ target })).resolves.toBeUndefined();
    const scheme = engine === "postgres" ? "postgresql" : "mysql";
    const adminUrl = `${scheme}://admin:S3cret-Admin@127.0.0.1:${await closedPort()}/${scratch.database}`;
    const down = createSqlProvider({ adminUrlFor: () => adminUrl });
    try {
      const error = await down.checkConnection?.({ target }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ retryable: true, upstreamCode: "ECONNREFUSED" });
      expect((error as Error).message).not.toContain("S3cret-Admin");
    } finally {
      await down.close?.();
    }
  });

  it("a job aborted between statements fails retryably and leaves no role behind", async () => {
    // Aborts at the second check, once the first statement (CREATE) has run.
    let checks = 0;
    const signal = {
      aborted: false,
      throwIfAborted() {
        if (++checks >= 2) throw new DOMException("This operation was aborted", "AbortError");
      },
    } as unknown as AbortSignal;
    const grant = grantFor(scratch.grantId());
    const error = await provider
      .issue({ grant, target, approval: null, checkpoint: noCheckpoint, signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, upstreamCode: "ABORTED" });
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(await scratch.roleExists(sqlRoleName(grant.id, 1))).toBe(false);
  });

  it("an admin connection the server drops while idle is replaced, without crashing the process", async () => {
    await issue(grantFor(scratch.grantId()));
    await scratch.killAdminSessions();
    await vi.waitFor(async () => expect(await scratch.adminSessions()).toEqual([]));
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the pool hear of it
    const issued = await issue(grantFor(scratch.grantId()));
    expect(await scratch.roleExists(issued.secret.username ?? "")).toBe(true);
  });

  it("a changed admin URL (a rotated admin password) gets a new pool, and the old one is closed", async () => {
    let adminUrl = scratch.adminUrl;
    const others = new Set(await scratch.adminSessions());
    const ours = async () => (await scratch.adminSessions()).filter((id) => !others.has(id));
    const rotating = createSqlProvider({ adminUrlFor: () => adminUrl });
    try {
      await issue(grantFor(scratch.grantId()), target, rotating);
      const before = await ours();
      expect(before.length).toBeGreaterThan(0);
      adminUrl = `${scratch.adminUrl}?connectTimeout=9000`; // same account, another URL
      await issue(grantFor(scratch.grantId()), target, rotating);
      await vi.waitFor(async () => {
        const after = await ours();
        expect(after.length).toBeGreaterThan(0);
        expect(after.filter((id) => before.includes(id))).toEqual([]);
      });
    } finally {
      await rotating.close?.();
    }
  });

  it("leases share one admin pool per target: no connections beyond it, none reopened", async () => {
    // The suite's other provider logs in as the same admin; count only the sessions this one opens.
    const others = new Set(await scratch.adminSessions());
    const ours = async () => (await scratch.adminSessions()).filter((id) => !others.has(id));
    const pooled = createSqlProvider({ adminUrlFor: () => scratch.adminUrl, maxConnectionsPerTarget: 2 });
    try {
      const concurrent = await Promise.all(
        Array.from({ length: 5 }, () => issue(grantFor(scratch.grantId()), target, pooled)),
      );
      expect(new Set(concurrent.map((c) => c.secret.username)).size).toBe(5);
      const sessions = await ours();
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.length).toBeLessThanOrEqual(2);

      for (let i = 0; i < 5; i++) await issue(grantFor(scratch.grantId()), target, pooled);
      expect(await ours()).toEqual(sessions);
    } finally {
      await pooled.close?.();
    }
    await vi.waitFor(async () => expect(await ours()).toEqual([]));
  });
});

describe("MariaDB admin without PROCESS", () => {
  let scratch: SqlScratch;
  beforeAll(async () => {
    scratch = await createSqlScratch("mysql");
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  it("revocation is refused instead of leaving the user's sessions running unseen", async () => {
    await scratch.superuser(`REVOKE PROCESS ON *.* FROM '${scratch.adminUser}'@'%'`);
    const provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
    try {
      const grant = grantFor(scratch.grantId());
      const target = targetOf(scratch);
      await provider.issue({ grant, target, approval: null, checkpoint: noCheckpoint });
      const error = await provider.revoke({ grant, target }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ retryable: false, upstreamCode: "ADMIN_LACKS_PROCESS" });
    } finally {
      await provider.close?.();
    }
  });
});
