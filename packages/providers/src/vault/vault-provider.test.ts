import { randomBytes, randomUUID } from "node:crypto";
import { type Grant, type Target, UpstreamError } from "@leasehold/domain";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultSession } from "./vault-client.js";
import { createVaultProvider, type VaultProvider } from "./vault-provider.js";
import { vaultTargetSchema } from "./vault-schemas.js";

const ADMIN = "postgres://postgres@127.0.0.1:5432";
const database = `lh_vault_${randomBytes(4).toString("hex")}`;

const target: Target = vaultTargetSchema.parse({
  id: "orders",
  kind: "vault",
  maxDuration: "2h",
  leases: [{ provider: "k8s", subject: "app", maxTtl: "1h" }],
  vault: { path: "database/creds/orders" },
});

const grant = (overrides: Partial<Grant> = {}): Grant => ({
  id: randomUUID(),
  requestId: null,
  targetId: "orders",
  principalId: "k8s:app",
  state: "issuing",
  durationSeconds: 600,
  createdAt: new Date(),
  issuedAt: null,
  expiresAt: null,
  endedAt: null,
  providerRef: null,
  issueAttempts: 1,
  lastError: null,
  ...overrides,
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

describe("the Vault provider against the Vault stand-in", () => {
  let vault: VaultSandbox;
  let provider: VaultProvider;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    vault = await startVaultSandbox({
      databaseRoles: [
        {
          name: "orders",
          engine: "postgres",
          connectionUrl: `${ADMIN}/${database}`,
          creationStatements: [
            `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
          ],
          revocationStatements: [`DROP ROLE IF EXISTS "{{name}}"`],
          defaultTtlSeconds: 3600,
          maxTtlSeconds: 7200,
        },
      ],
      policies: {
        leasehold: [
          { path: "database/creds/orders", capabilities: ["read"] },
          { path: "auth/token/create", capabilities: ["create", "update"] },
          { path: "auth/token/revoke-accessor", capabilities: ["update"] },
          { path: "sys/leases/*", capabilities: ["update"] },
        ],
      },
      approle: [{ roleId: "leasehold-role", secretId: "leasehold-secret", policies: ["leasehold"] }],
      tokens: [{ token: "sandbox-no-path-token", policies: ["default"] }],
    });
    provider = createVaultProvider(
      createVaultSession({
        address: vault.url,
        auth: { roleId: "leasehold-role", secretId: "leasehold-secret" },
      }),
    );
  });
  afterAll(async () => {
    await vault.revokeAllLeases();
    await vault.close();
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  const issue = async (g: Grant) => {
    let checkpointed: Readonly<Record<string, string>> | undefined;
    const issued = await provider.issue({
      grant: g,
      target,
      approval: null,
      checkpoint: async (reference) => {
        checkpointed = reference;
      },
    });
    return { issued, checkpointed };
  };

  it("reads credentials with a child token recorded first, renews and revokes the lease (AppRole login)", async () => {
    const g = grant();
    const { issued, checkpointed } = await issue(g);
    expect(checkpointed?.tokenAccessor).toBe(issued.reference.tokenAccessor);
    expect(await roleExists(issued.secret.username ?? "")).toBe(true);
    expect(issued.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
    const lease = vault.leases().find((l) => l.id === issued.reference.leaseId);
    expect(lease?.tokenAccessor).toBe(issued.reference.tokenAccessor);

    const active = {
      ...g,
      state: "active" as const,
      providerRef: issued.reference,
      expiresAt: issued.expiresAt,
    };
    const renewed = await provider.renew?.({
      grant: active,
      target,
      expiresAt: new Date(Date.now() + 1_800_000),
    });
    expect((renewed?.expiresAt.getTime() ?? 0) - Date.now()).toBeGreaterThan(1_700_000);

    await provider.revoke({ grant: active, target });
    await vault.whenIdle();
    expect(await roleExists(issued.secret.username ?? "")).toBe(false);
    await provider.revoke({ grant: active, target });
  });

  it("a retry revokes the lease an interrupted attempt created, through its token", async () => {
    const g = grant();
    const { issued: orphan, checkpointed } = await issue(g);
    const retry = grant({ id: g.id, issueAttempts: 2, providerRef: checkpointed ?? null });
    await provider.discardEarlierAttempts({ grant: retry, target });
    await vault.whenIdle();
    expect(vault.leases().find((l) => l.id === orphan.reference.leaseId)?.revoked).toBe(true);
    expect(await roleExists(orphan.secret.username ?? "")).toBe(false);
  });

  it("sealed is retryable and says so; permission denied is not", async () => {
    vault.setMode("sealed");
    const sealed = await issue(grant()).catch((e: unknown) => e);
    vault.setMode("active");
    expect(sealed).toBeInstanceOf(UpstreamError);
    expect(sealed).toMatchObject({ retryable: true, message: expect.stringMatching(/sealed/) });

    const weak = createVaultProvider(
      createVaultSession({ address: vault.url, auth: { token: "sandbox-no-path-token" } }),
    );
    const denied = await weak
      .issue({ grant: grant(), target, approval: null, checkpoint: async () => {} })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ retryable: false, message: expect.stringMatching(/permission denied/) });
  });

  it("checks its connection with a token lookup-self; an unreachable Vault fails retryably", async () => {
    await expect(provider.checkConnection?.({ target })).resolves.toBeUndefined();
    const gone = createVaultProvider(
      createVaultSession({ address: "http://127.0.0.1:9", auth: { token: "x" } }),
    );
    const error = await gone.checkConnection?.({ target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true });
  });

  it("a malformed stored reference is a clear error that no retry fixes, and reaches no backend", async () => {
    const broken = { ...grant(), state: "active" as const, providerRef: { leaseId: "x", tokenAccessor: "" } };
    const error = await provider.revoke({ grant: broken, target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/malformed Vault reference \(.*tokenAccessor/),
    });
  });

  it("an unreachable Vault is retryable", async () => {
    const gone = createVaultProvider(
      createVaultSession({ address: "http://127.0.0.1:9", auth: { token: "x" } }),
    );
    const error = await gone
      .issue({ grant: grant(), target, approval: null, checkpoint: async () => {} })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/could not be reached/) });
  });
});
