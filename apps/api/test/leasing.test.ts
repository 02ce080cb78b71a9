import { createLeaseholdClient, keepLeaseRenewed, LeaseholdError } from "@leasehold/client";
import {
  type AwsSandbox,
  type OidcIssuer,
  startAwsSandbox,
  startOidcIssuer,
  startVaultSandbox,
  type VaultSandbox,
} from "@leasehold/sandbox";
import { createScratchDatabases, ROLE_ARN, type ScratchDatabases, tryAs } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * Applications lease database credentials through the API with a workload token, as real processes on
 * the machine's real PostgreSQL and MariaDB: the credentials log in, do what the role allows and nothing
 * else, renew, end early or at their deadline, and then no longer log in.
 */
const SUBJECT = "system:serviceaccount:orders:api";

const config = (db: ScratchDatabases) => `
identityProviders:
  - name: k8s
    kind: workload
    issuer: "{issuer}"
    audience: leasehold
targets:
  - id: orders-pg
    kind: sql
    maxDuration: 2h
    defaultDuration: 15m
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", claims: { cluster: prod }, maxTtl: 1h }
    sql:
      engine: postgres
      adminUrlEnv: ORDERS_PG_ADMIN_URL
      creationStatements:
        - CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
        - GRANT SELECT ON orders TO "{{name}}"
  - id: orders-vault-pg
    kind: vault
    maxDuration: 2h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", claims: { cluster: prod }, maxTtl: 1h }
    vault: { path: database/creds/orders-pg }
  - id: orders-vault-my
    kind: vault
    maxDuration: 2h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", claims: { cluster: prod }, maxTtl: 1h }
    vault: { path: database/creds/orders-my }
  - id: orders-my
    kind: sql
    maxDuration: 2h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", claims: { cluster: prod }, maxTtl: 1h }
    sql:
      engine: mysql
      adminUrlEnv: ORDERS_MY_ADMIN_URL
      creationStatements:
        - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
        - GRANT SELECT ON ${db.mysqlName}.orders TO '{{name}}'@'%'
`;

const PG = { engine: "postgres" as const, denied: "42501", gone: /^28000$/ };
// MariaDB words a refused login differently depending on how the account vanished; all are access denied.
const MY = { engine: "mysql" as const, denied: "ER_TABLEACCESS_DENIED_ERROR", gone: /^ER_ACCESS_DENIED/ };
const ENGINES = [
  { backend: "sql", target: "orders-pg", ...PG },
  { backend: "sql", target: "orders-my", ...MY },
  { backend: "vault", target: "orders-vault-pg", ...PG },
  { backend: "vault", target: "orders-vault-my", ...MY },
];

describe("workload leases of database credentials", () => {
  let aws: AwsSandbox;
  let issuer: OidcIssuer;
  let db: ScratchDatabases;
  let vault: VaultSandbox;
  let stack: Stack;

  beforeAll(async () => {
    aws = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
    issuer = await startOidcIssuer();
    db = await createScratchDatabases();
    vault = await startVaultSandbox({
      databaseRoles: [
        {
          name: "orders-pg",
          engine: "postgres",
          connectionUrl: db.pgUrl,
          creationStatements: [
            `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
            `GRANT SELECT ON orders TO "{{name}}"`,
          ],
          revocationStatements: [
            `REASSIGN OWNED BY "{{name}}" TO postgres`,
            `DROP OWNED BY "{{name}}"`,
            `DROP ROLE IF EXISTS "{{name}}"`,
          ],
          defaultTtlSeconds: 3600,
          maxTtlSeconds: 7200,
          terminateSessionsOnRevoke: true,
        },
        {
          name: "orders-my",
          engine: "mysql",
          connectionUrl: db.mysqlUrl,
          creationStatements: [
            `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
            `GRANT SELECT ON ${db.mysqlName}.orders TO '{{name}}'@'%'`,
          ],
          revocationStatements: [`DROP USER IF EXISTS '{{name}}'@'%'`],
          defaultTtlSeconds: 3600,
          maxTtlSeconds: 7200,
          terminateSessionsOnRevoke: true,
        },
      ],
    });
    stack = await startStack({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: config(db),
      env: {
        ORDERS_PG_ADMIN_URL: db.pgUrl,
        ORDERS_MY_ADMIN_URL: db.mysqlUrl,
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: vault.rootToken,
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await vault?.revokeAllLeases();
    await vault?.close();
    await db?.drop();
    await Promise.all([issuer?.close(), aws?.close()]);
  });

  const workloadToken = (
    subject = SUBJECT,
    claims: Record<string, string> = { cluster: "prod" },
    audience = "leasehold",
  ) => issuer.mint({ sub: subject, ...claims }, { audience });
  const client = (token: () => Promise<string> = () => workloadToken()) =>
    createLeaseholdClient({ url: stack.apiUrl, token });
  const grantState = async (id: string) =>
    (await stack.db.query<{ state: string }>("SELECT state FROM grants WHERE id = $1", [id]))[0]?.state;

  it.each(ENGINES)(
    "$backend $engine: lease, use, renew, revoke early",
    async ({ target, engine, denied, gone }) => {
      const app = client();
      const { lease, credential } = await app.lease(target, 600);
      expect(await tryAs(engine, credential, db.pgName, "SELECT total FROM orders")).toBe("ok");
      expect(await tryAs(engine, credential, db.pgName, "INSERT INTO orders VALUES (2, 1)")).toBe(denied);

      const renewed = await app.renew(lease.id, 1800);
      expect(renewed.expiresAt?.getTime()).toBeGreaterThan((lease.expiresAt?.getTime() ?? 0) + 1000 * 1000);

      await app.revoke(lease.id);
      await eventually(
        async () => ((await grantState(lease.id)) === "revoked" ? true : undefined),
        20_000,
        "revoked",
      );
      await eventually(
        async () => ((await db.roleExists(engine, credential.username ?? "")) ? undefined : true),
        10_000,
        "the role to be dropped",
      );
      expect(await tryAs(engine, credential, db.pgName, "SELECT 1")).toMatch(gone);
    },
  );

  it("expiry without revoke: after the deadline the login fails and the role is gone", async () => {
    const app = client();
    const leases = await Promise.all(ENGINES.map((e) => app.lease(e.target, 10)));
    for (const [i, { credential }] of leases.entries()) {
      expect(await tryAs(ENGINES[i]?.engine ?? "postgres", credential, db.pgName, "SELECT 1")).toBe("ok");
    }
    await eventually(
      async () =>
        (await Promise.all(leases.map((l) => grantState(l.lease.id)))).every((s) => s === "expired")
          ? true
          : undefined,
      30_000,
      "both leases to expire",
    );
    for (const [i, { credential }] of leases.entries()) {
      const engine = ENGINES[i];
      expect(await tryAs(engine?.engine ?? "postgres", credential, db.pgName, "SELECT 1")).toMatch(
        engine?.gone ?? /never/,
      );
    }
    for (const [i, { credential }] of leases.entries()) {
      expect(await db.roleExists(ENGINES[i]?.engine ?? "postgres", credential.username ?? "")).toBe(false);
    }
  }, 60_000);

  it("keepLeaseRenewed renews before the deadline and revokes when stopped", async () => {
    const seen: string[] = [];
    const keeper = await keepLeaseRenewed(client(), {
      targetId: "orders-pg",
      ttlSeconds: 12,
      renewBeforeSeconds: 10,
      onCredential: (leased) => seen.push(leased.credential.username ?? ""),
    });
    const first = keeper.current().lease.expiresAt?.getTime() ?? 0;
    await eventually(
      async () => ((keeper.current().lease.expiresAt?.getTime() ?? 0) > first ? true : undefined),
      15_000,
      "a renewal",
    );
    expect(seen).toHaveLength(1);
    const id = keeper.current().lease.id;
    await keeper.stop();
    await eventually(
      async () => ((await grantState(id)) === "revoked" ? true : undefined),
      20_000,
      "revoked",
    );
  }, 40_000);

  const withSealedVault = async <T>(work: () => Promise<T>) => {
    vault.setMode("sealed");
    try {
      return await work();
    } finally {
      vault.setMode("active");
    }
  };

  it.each([
    ["a TTL of 0", () => client().lease("orders-pg", 0), "BAD_REQUEST"],
    ["a negative TTL", () => client().lease("orders-pg", -30), "BAD_REQUEST"],
    ["a TTL over the rule's maximum", () => client().lease("orders-pg", 3601), "BAD_REQUEST"],
    [
      "a token for another audience",
      () => client(() => workloadToken(SUBJECT, { cluster: "prod" }, "vault")).lease("orders-pg"),
      "UNAUTHORIZED",
    ],
    [
      "a subject the rule does not allow",
      () => client(() => workloadToken("system:serviceaccount:billing:api")).lease("orders-pg"),
      "FORBIDDEN",
    ],
    [
      "a claim that does not match",
      () => client(() => workloadToken(SUBJECT, { cluster: "staging" })).lease("orders-pg"),
      "FORBIDDEN",
    ],
    ["an unknown target", () => client().lease("orders-admin"), "NOT_FOUND"],
    [
      "a Vault lease while Vault is sealed",
      () => withSealedVault(() => client().lease("orders-vault-pg")),
      "BAD_GATEWAY",
    ],
  ])("refuses %s and creates nothing", async (_name, attempt, code) => {
    const before = await db.grantedRoles();
    const states = async () =>
      (await stack.db.query<{ state: string }>("SELECT state FROM grants")).map((g) => g.state);
    const grantsBefore = await states();
    const error = await attempt().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseholdError);
    expect((error as LeaseholdError).code).toBe(code);
    expect(await db.grantedRoles()).toEqual(before);
    // A refusal records nothing; a lease Vault could not serve is recorded only as failed.
    const grantsAfter = await states();
    expect(grantsAfter.length - grantsBefore.length).toBe(code === "BAD_GATEWAY" ? 1 : 0);
    expect(grantsAfter.filter((s) => s !== "failed")).toEqual(grantsBefore.filter((s) => s !== "failed"));
  });

  it("a token with the lease's sub but a claim its rule refuses can do nothing with the lease", async () => {
    const { lease, credential } = await client().lease("orders-pg", 600);
    const grantId = lease.id;
    const other = stack.client(await workloadToken(SUBJECT, { cluster: "staging" }));
    const uses: [string, () => Promise<unknown>][] = [
      ["grants.get", () => other.grants.get.query({ grantId })],
      ["grants.credentials", () => other.grants.credentials.mutate({ grantId })],
      ["grants.extend", () => other.grants.extend.mutate({ grantId, extendBySeconds: 600 })],
      ["leases.renew", () => other.leases.renew.mutate({ grantId, incrementSeconds: 600 })],
      ["grants.revoke", () => other.grants.revoke.mutate({ grantId })],
    ];
    for (const [name, use] of uses) {
      const error = await use().then(
        () => new Error(`${name} was allowed`),
        (e: unknown) => e,
      );
      expect(error, name).toMatchObject({ data: { code: "FORBIDDEN" } });
      expect((error as Error).message, name).toMatch(/claim cluster differs/);
      expect((error as Error).message, name).not.toMatch(/staging|prod/);
    }
    expect((await other.grants.list.query({ limit: 50 })).map((g) => g.id)).not.toContain(grantId);
    const after = await stack.db.query<{ state: string; expires_at: Date }>(
      "SELECT state, expires_at FROM grants WHERE id = $1",
      [grantId],
    );
    expect(after[0]).toMatchObject({ state: "active", expires_at: lease.expiresAt });
    expect(await tryAs("postgres", credential, db.pgName, "SELECT 1")).toBe("ok");

    // The lease's own token may not extend it either: leases renew only within their rule.
    const own = stack.client(await workloadToken());
    await expect(own.grants.extend.mutate({ grantId, extendBySeconds: 600 })).rejects.toThrow(
      /leases\.renew/,
    );
    await client().revoke(grantId);
  });

  it("a hostile subject or claim reaches no statement: names are generated", async () => {
    const hostile = `system:serviceaccount:orders:x"; DROP TABLE orders; --`;
    const app = client(() => workloadToken(hostile, { cluster: "prod", note: "'); DROP USER root; --" }));
    const { lease, credential } = await app.lease("orders-pg", 60);
    expect(credential.username).toMatch(/^lh_[0-9a-f]{16}_a1$/);
    expect(await tryAs("postgres", credential, db.pgName, "SELECT count(*) FROM orders")).toBe("ok");
    await app.revoke(lease.id);
  });
});
