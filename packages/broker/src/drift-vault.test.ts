import { randomBytes, randomUUID } from "node:crypto";
import { type CredentialProvider, createVaultProvider, createVaultSession } from "@leasehold/providers";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersVaultLeases } from "./test-harness.js";

/**
 * Drift in Vault: child tokens Leasehold created (and, through them, their database leases) that no
 * grant owns are revoked; an active lease's token is left alone, and so are tokens Leasehold did not
 * create.
 */
type VaultBody = { auth?: { client_token: string; accessor: string }; lease_id?: string };
const ADMIN = "postgres://postgres@127.0.0.1:5432";
const { workload: app, target } = ordersVaultLeases;

describe("drift reconciliation: Vault tokens and leases", () => {
  const database = `lh_vdrift_${randomBytes(4).toString("hex")}`;
  let vault: VaultSandbox;
  let provider: CredentialProvider;
  let h: Harness;
  /** Vault's HTTP API, as a real client speaks it. */
  const call = async (path: string, token: string, body?: unknown) => {
    const response = await fetch(`${vault.url}/v1/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`Vault answered ${response.status} on ${path}`);
    return (await response.json()) as VaultBody;
  };

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
    provider = createVaultProvider(
      createVaultSession({ address: vault.url, auth: { token: vault.rootToken } }),
    );
    h = await createHarness("pglite", provider, { targets: [target] });
  });
  afterAll(async () => {
    await h?.close();
    await vault?.revokeAllLeases();
    await vault?.close();
    const admin = new pg.Client({ connectionString: `${ADMIN}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  /** A token with its own lease, made by hand: as Leasehold names its tokens, or not. */
  const tokenWithLease = async (displayName: string, meta: Record<string, string>) => {
    const created = await call("auth/token/create", vault.rootToken, {
      ttl: "2h",
      display_name: displayName,
      meta,
    });
    if (!created.auth) throw new Error("Vault created no token");
    const lease = await call(target.vault.path, created.auth.client_token);
    return { accessor: created.auth.accessor, leaseId: String(lease.lease_id) };
  };
  const leaseRevoked = async (leaseId: string) => {
    await vault.whenIdle();
    return vault.leases().find((l) => l.id === leaseId)?.revoked;
  };
  const tokenLive = (accessor: string) =>
    call("auth/token/lookup-accessor", vault.rootToken, { accessor }).then(
      () => true,
      () => false,
    );

  it("revokes the tokens (and leases) of ended and unknown grants, keeps active ones and foreign tokens", async () => {
    const kept = await h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 });
    const ended = await h.broker.leases.create(app, { targetId: "orders", ttlSeconds: 600 });
    // The database says it ended and was released, but Vault still holds its token and lease.
    const longAgo = new Date(h.clock.now.getTime() - 3 * 3600_000);
    await h.db.query(
      "UPDATE grants SET state = 'revoked', ended_at = $2, expires_at = $2, released_at = $2, credential = NULL WHERE id = $1",
      [ended.grant.id, longAgo],
    );
    const unknownGrant = randomUUID();
    const unknown = await tokenWithLease(`leasehold-${unknownGrant.slice(0, 8)}`, {
      grant: unknownGrant,
      attempt: "1",
    });
    const foreign = await tokenWithLease("ci-job", { grant: randomUUID() });
    const keptRef = kept.grant.providerRef ?? {};
    const endedRef = ended.grant.providerRef ?? {};

    const report = await h.broker.drift.run();

    expect(report).toMatchObject({
      scanned: 1,
      listFailures: 0,
      unowned: 2,
      corrected: 2,
      removeFailures: 0,
    });
    expect(await tokenLive(keptRef.tokenAccessor ?? "")).toBe(true);
    expect(await leaseRevoked(keptRef.leaseId ?? "")).toBe(false);
    expect(await tokenLive(endedRef.tokenAccessor ?? "")).toBe(false);
    expect(await leaseRevoked(endedRef.leaseId ?? "")).toBe(true);
    expect(await tokenLive(unknown.accessor)).toBe(false);
    expect(await leaseRevoked(unknown.leaseId)).toBe(true);
    expect(await tokenLive(foreign.accessor)).toBe(true);
    expect(await leaseRevoked(foreign.leaseId)).toBe(false);

    const events = (
      await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000, subjectId: target.id }))
    ).filter((e) => e.action === "drift.corrected");
    expect(events.map((e) => e.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "vault-token", grantId: ended.grant.id, reason: "grant-ended" }),
        expect.objectContaining({ kind: "vault-token", grantId: unknownGrant, reason: "unknown-grant" }),
      ]),
    );
    // The accessor can revoke its token: the trail holds only a fingerprint of it.
    const trail = JSON.stringify(events);
    expect(trail).not.toContain(unknown.accessor);
    expect(trail).not.toContain(endedRef.tokenAccessor);
    expect(await h.broker.drift.run()).toMatchObject({ unowned: 0, corrected: 0 });
  });

  it("Vault sealed: the scan is reported as failed and tried next time", async () => {
    const unknownGrant = randomUUID();
    const unknown = await tokenWithLease("leasehold-x", { grant: unknownGrant, attempt: "1" });
    vault.setMode("sealed");
    try {
      expect(await h.broker.drift.run()).toMatchObject({ scanned: 1, listFailures: 1, corrected: 0 });
    } finally {
      vault.setMode("active");
    }
    expect(await tokenLive(unknown.accessor)).toBe(true);
    expect(await h.broker.drift.run()).toMatchObject({ listFailures: 0, corrected: 1 });
    expect(await tokenLive(unknown.accessor)).toBe(false);
  });
});
