import { randomBytes, randomUUID } from "node:crypto";
import { type Grant, UpstreamError } from "@leasehold/domain";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalContext } from "../credential-provider.js";
import { createVaultSession } from "./vault-client.js";
import { createVaultProvider, type VaultProvider } from "./vault-provider.js";
import { vaultTargetSchema } from "./vault-schemas.js";

/** A Vault target's scopes read other roles' credentials: the read-write scope can write, the default cannot. */

const ADMIN = "postgres://postgres@127.0.0.1:5432";
const database = `lh_vscope_${randomBytes(4).toString("hex")}`;

const target = vaultTargetSchema.parse({
  id: "orders",
  kind: "vault",
  requesters: { groups: ["eng"] },
  approvers: { groups: ["sre"] },
  maxDuration: "2h",
  vault: { path: "database/creds/orders-readonly" },
  scopes: [
    {
      name: "read-write",
      description: "Change orders",
      vault: { path: "database/creds/orders-readwrite" },
    },
  ],
});

const grant = (): Grant => ({
  id: randomUUID(),
  requestId: randomUUID(),
  targetId: "orders",
  principalId: "dev@example.com",
  state: "issuing",
  durationSeconds: 600,
  createdAt: new Date(),
  issuedAt: null,
  expiresAt: null,
  endedAt: null,
  providerRef: null,
  issueAttempts: 1,
  lastError: null,
});

const approval = (scopes: string[]): ApprovalContext => ({
  requestId: randomUUID(),
  ticket: null,
  approvers: ["alice@example.com"],
  scopes,
});

const role = (name: string, privileges: string) => ({
  name,
  engine: "postgres" as const,
  connectionUrl: `${ADMIN}/${database}`,
  creationStatements: [
    `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
    `GRANT ${privileges} ON orders TO "{{name}}"`,
  ],
  revocationStatements: [`REVOKE ALL ON orders FROM "{{name}}"`, `DROP ROLE IF EXISTS "{{name}}"`],
  defaultTtlSeconds: 3600,
  maxTtlSeconds: 7200,
});

/** Tries to insert a row as the issued user: true if the database let it. */
async function canWrite(username: string, password: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: `postgres://${username}:${password}@127.0.0.1:5432/${database}`,
  });
  await client.connect();
  try {
    await client.query("SELECT count(*) FROM orders");
    await client.query("INSERT INTO orders (id) VALUES (1)");
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "42501") return false; // insufficient_privilege
    throw error;
  } finally {
    await client.end();
  }
}

describe("Vault scopes against the Vault stand-in", () => {
  let vault: VaultSandbox;
  let provider: VaultProvider;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const db = new pg.Client({ connectionString: `${ADMIN}/${database}` });
    await db.connect();
    await db.query("CREATE TABLE orders (id integer)");
    await db.end();
    vault = await startVaultSandbox({
      databaseRoles: [role("orders-readonly", "SELECT"), role("orders-readwrite", "SELECT, INSERT")],
    });
    provider = createVaultProvider(
      createVaultSession({ address: vault.url, auth: { token: vault.rootToken } }),
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

  it("reads the scope's path when the request names it, and the target's otherwise", async () => {
    const scoped = await provider.issue({
      grant: grant(),
      target,
      approval: approval(["read-write"]),
      checkpoint: async () => {},
    });
    expect(scoped.reference.leaseId).toMatch(/^database\/creds\/orders-readwrite\//);
    expect(await canWrite(scoped.secret.username, scoped.secret.password)).toBe(true);

    const plain = await provider.issue({
      grant: grant(),
      target,
      approval: approval([]),
      checkpoint: async () => {},
    });
    expect(plain.reference.leaseId).toMatch(/^database\/creds\/orders-readonly\//);
    expect(await canWrite(plain.secret.username, plain.secret.password)).toBe(false);
  });

  it("refuses, without retrying and before creating anything, a scope the target no longer offers", async () => {
    let checkpoints = 0;
    const refusal = await provider
      .issue({
        grant: grant(),
        target,
        approval: approval(["admin"]),
        checkpoint: async () => {
          checkpoints += 1;
        },
      })
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(UpstreamError);
    expect(refusal).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/no longer offers the scope admin/),
    });
    expect(checkpoints).toBe(0);
  });

  it("takes one scope per request: one path", () => {
    expect(provider.scopeProblem?.({ target, scopes: ["read-write"] })).toBeUndefined();
    expect(provider.scopeProblem?.({ target, scopes: ["read-write", "other"] })).toMatch(/pick one scope/);
  });
});
