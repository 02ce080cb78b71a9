import { randomBytes } from "node:crypto";
import { type CredentialProvider, createVaultProvider, createVaultSession } from "@leasehold/providers";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersVaultLeases } from "./test-harness.js";

/** Vault failing at lease time and at revoke time, through the broker's use cases. */
const ADMIN = "postgres://postgres@127.0.0.1:5432";
const { workload: app, target } = ordersVaultLeases;

describe("Vault leases when Vault fails", () => {
  const database = `lh_vlease_${randomBytes(4).toString("hex")}`;
  let vault: VaultSandbox;
  let provider: CredentialProvider;
  let h: Harness;
  let sealNextIssue = false;

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
          creationStatements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'`],
          revocationStatements: [`DROP ROLE IF EXISTS "{{name}}"`],
          defaultTtlSeconds: 3600,
          maxTtlSeconds: 7200,
        },
      ],
    });
    const real = createVaultProvider(
      createVaultSession({ address: vault.url, auth: { token: vault.rootToken } }),
    );
    // The real provider; a test may have Vault sealed for exactly its next issue call.
    provider = {
      ...real,
      issue: async (input) => {
        if (!sealNextIssue) return real.issue(input);
        sealNextIssue = false;
        vault.setMode("sealed");
        try {
          return await real.issue(input);
        } finally {
          vault.setMode("active");
        }
      },
    };
    h = await createHarness("pglite", provider, { targets: [target] });
  });
  afterAll(async () => {
    await h.close();
    await vault.revokeAllLeases();
    await vault.close();
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  const grantsByState = async () =>
    (await h.db.query<{ state: string }>("SELECT state FROM grants ORDER BY created_at")).map((r) => r.state);

  it("sealed at lease time: a clear error, and nothing recorded as active", async () => {
    vault.setMode("sealed");
    try {
      await expect(h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 })).rejects.toThrow(
        /sealed/,
      );
    } finally {
      vault.setMode("active");
    }
    expect(await grantsByState()).toEqual(["failed"]);
    expect(vault.leases()).toEqual([]);
  });

  it("sealed for one moment at lease time: tried again inside the request, one lease in Vault", async () => {
    sealNextIssue = true;
    const { grant, credential } = await h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 });
    expect(sealNextIssue).toBe(false);
    expect(credential.secret).toMatchObject({ kind: "database", username: expect.any(String) });
    expect(credential.secret.kind === "database" && credential.secret.username).toBeTruthy();
    const stored = await h.deps.store.read((r) => r.grants.findById(grant.id));
    expect(stored).toMatchObject({ state: "active", issueAttempts: 2 });
    expect(vault.leases().filter((l) => l.id === stored?.providerRef?.leaseId)).toHaveLength(1);
    await h.broker.grants.revoke(app, { grantId: grant.id });
    expect(await h.broker.grants.finishRevoke(grant.id, { isLast: true })).toBe("revoked");
  });

  it("down at revoke time: retried, then revocation debt, settled when Vault is back", async () => {
    const { grant } = await h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 });
    await h.broker.grants.revoke(app, { grantId: grant.id });
    vault.setMode("sealed");
    await expect(h.broker.grants.finishRevoke(grant.id, { isLast: false })).rejects.toThrow(/sealed/);
    expect((await h.deps.store.read((r) => r.grants.findById(grant.id)))?.state).toBe("revoking");
    await expect(h.broker.grants.finishRevoke(grant.id, { isLast: true })).rejects.toThrow(/sealed/);
    const debt = await h.deps.store.read((r) => r.grants.findById(grant.id));
    expect(debt?.state).toBe("revocation_failed");
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: grant.id }),
    );
    expect(events.map((e) => e.action)).toContain("grant.revocation_failed");
    expect(vault.leases().find((l) => l.id === grant.providerRef?.leaseId)?.revoked).toBe(false);

    vault.setMode("active");
    expect(await h.broker.grants.finishRevoke(grant.id, { isLast: false })).toBe("revoked");
    await vault.whenIdle();
    expect(vault.leases().find((l) => l.id === grant.providerRef?.leaseId)?.revoked).toBe(true);
  });

  it("sealed past the deadline: the sweep records debt, lets it rest, and expires the grant once Vault is back", async () => {
    const { grant } = await h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 });
    const stateNow = async () => (await h.deps.store.read((r) => r.grants.findById(grant.id)))?.state;
    h.clock.now = new Date((grant.expiresAt?.getTime() ?? 0) + 1000);
    vault.setMode("sealed");
    try {
      expect(await h.broker.reconcile.run()).toMatchObject({ expired: 0, expiryFailures: 1 });
      expect(await stateNow()).toBe("revocation_failed");
      // Resting debt is left alone by the next sweeps.
      expect(await h.broker.reconcile.run()).toMatchObject({ expired: 0, expiryFailures: 0 });
    } finally {
      vault.setMode("active");
    }
    h.clock.advance(301);
    expect(await h.broker.reconcile.run()).toMatchObject({ expired: 1, expiryFailures: 0 });
    expect(await stateNow()).toBe("expired");
    await vault.whenIdle();
    expect(vault.leases().find((l) => l.id === grant.providerRef?.leaseId)?.revoked).toBe(true);
  });
});
