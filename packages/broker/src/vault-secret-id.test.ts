import { randomUUID } from "node:crypto";
import { createStore, type Database, type Store } from "@leasehold/db";
import {
  createVaultSession,
  type VaultAppRolePort,
  vaultAppRole,
  vaultClientFor,
} from "@leasehold/providers";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import { createTestDatabase } from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentialCipher } from "./credential-cipher.js";
import {
  createVaultSecretIdService,
  storedVaultSecretId,
  VAULT_SECRET_ID_ROTATION,
} from "./vault-secret-id-service.js";

/**
 * Rotating Leasehold's own AppRole secret id on real PostgreSQL against the Vault stand-in, with a crash
 * injected at every step: whatever the step, the secret id Leasehold would log in with next still
 * logs in, and the next run finishes the rotation.
 */
const ROLE = "leasehold";
const ROLE_ID = "leasehold-role-id";
const silent = { info() {}, warn() {}, error() {} };
const notLast = { isLast: false };

/** A crash: an unexpected error, so the job would be retried, and nothing is recorded as failed. */
class Crash extends Error {}

type CrashPoint =
  | "before-mint"
  | "after-mint"
  | "before-test"
  | "after-test"
  | "before-destroy"
  | "after-destroy";

describe("rotating Leasehold's own Vault AppRole secret id", () => {
  let vault: VaultSandbox;
  let db: Database & { url?: string };
  let store: Store;
  let bootstrap: string;
  const cipher = createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 7) });
  let crashAt: CrashPoint | undefined;
  /** Runs just after Vault minted a secret id (the test's chance to meddle with it). */
  let afterMint: ((minted: { secretId: string; accessor: string }) => Promise<void>) | undefined;

  const root = () => vaultClientFor({ address: vault.url }, vault.rootToken);
  const maybeCrash = (point: CrashPoint) => {
    if (crashAt === point) {
      crashAt = undefined;
      throw new Crash(`crash ${point}`);
    }
  };
  const stored = () => storedVaultSecretId(store, cipher, ROLE_ID);
  /** A replica's session: it logs in with the stored secret id, or the bootstrap one. */
  const session = () =>
    createVaultSession({ address: vault.url, auth: { roleId: ROLE_ID, secretId: bootstrap } }, stored());
  const logsIn = async (secretId: string) => {
    try {
      await vaultClientFor({ address: vault.url }).approleLogin({ role_id: ROLE_ID, secret_id: secretId });
      return true;
    } catch {
      return false;
    }
  };
  const service = () => {
    const real = vaultAppRole(session(), { address: vault.url, roleId: ROLE_ID });
    // The real port, with a crash point around each of its calls.
    const crashing: VaultAppRolePort = {
      ...real,
      mint: async (roleName) => {
        maybeCrash("before-mint");
        const minted = await real.mint(roleName);
        await afterMint?.(minted);
        maybeCrash("after-mint");
        return minted;
      },
      test: async (secretId) => {
        maybeCrash("before-test");
        await real.test(secretId);
        maybeCrash("after-test");
      },
      destroy: async (roleName, accessor) => {
        maybeCrash("before-destroy");
        await real.destroy(roleName, accessor);
        maybeCrash("after-destroy");
      },
    };
    return createVaultSecretIdService({
      store,
      cipher,
      clock: () => new Date(),
      newId: randomUUID,
      log: silent,
      setup: { appRole: crashing, roleId: ROLE_ID, bootstrapSecretId: bootstrap },
    });
  };
  const rows = () =>
    db.query<{ state: string; sealed: Buffer | null }>(
      "SELECT state, sealed FROM vault_secret_ids ORDER BY created_at",
    );
  const auditText = async () =>
    JSON.stringify(await db.query("SELECT action, subject_id, data FROM audit_events ORDER BY seq"));

  beforeAll(async () => {
    vault = await startVaultSandbox({
      policies: {
        "rotate-self": [
          { path: `auth/approle/role/${ROLE}/secret-id`, capabilities: ["update"] },
          { path: `auth/approle/role/${ROLE}/secret-id/lookup`, capabilities: ["update"] },
          { path: `auth/approle/role/${ROLE}/secret-id-accessor/destroy`, capabilities: ["update"] },
        ],
      },
      approle: [{ roleName: ROLE, roleId: ROLE_ID, secretId: "unused-initial", policies: ["rotate-self"] }],
    });
  });
  afterAll(() => vault.close());
  beforeEach(async () => {
    db = await createTestDatabase("postgres");
    store = createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) });
    // Each test starts from a fresh bootstrap secret id, as an operator would hand out in VAULT_SECRET_ID.
    bootstrap = (await root().write(`auth/approle/role/${ROLE}/secret-id`, {})).data.secret_id;
    crashAt = undefined;
    afterMint = undefined;
  });
  afterEach(() => db.close());

  it("mints, tests and stores a new secret id that every replica's next login uses, then destroys the bootstrap", async () => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    expect(await service().rotate(notLast)).toBe("rotated");

    const current = await stored()();
    expect(current).toBeDefined();
    expect(current).not.toBe(bootstrap);
    expect(await logsIn(current ?? "")).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before);
    // A replica starting now logs in with the stored one (the bootstrap no longer works).
    expect((await (await session().client()).tokenLookupSelf()).data.meta).toEqual({ role_name: ROLE });
    expect((await rows()).map((r) => r.state)).toEqual(["destroyed", "current"]);
    expect((await rows())[0]?.sealed).toBeNull();

    // A second rotation replaces the stored one the same way.
    expect(await service().rotate(notLast)).toBe("rotated");
    expect(await logsIn(current ?? "")).toBe(false);
    expect(await logsIn((await stored()()) ?? "")).toBe(true);
  });

  it("audits each step without a secret id or an accessor", async () => {
    const accessorsBefore = vault.appRoleSecretIdAccessors(ROLE);
    await service().rotate(notLast);
    const text = await auditText();
    expect(text).toContain(VAULT_SECRET_ID_ROTATION);
    for (const step of ["bootstrap-recorded", "tested", "promoted", "destroyed"])
      expect(text).toContain(step);
    expect(text).toContain("rotation.succeeded");
    for (const secret of [
      bootstrap,
      (await stored()()) ?? "missing",
      ...accessorsBefore,
      ...vault.appRoleSecretIdAccessors(ROLE),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it.each<CrashPoint>([
    "before-mint",
    "after-mint",
    "before-test",
    "after-test",
    "before-destroy",
    "after-destroy",
  ])("a crash %s leaves a working secret id, and the next run finishes the rotation", async (point) => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    crashAt = point;
    await expect(service().rotate(notLast)).rejects.toThrow(Crash);
    // Whatever was recorded, the secret id a replica would log in with now works.
    expect(await logsIn((await stored()()) ?? bootstrap)).toBe(true);
    await (await session().client()).tokenLookupSelf();

    const resumed = await service().rotate(notLast);
    // A crash after the new one became current only had the old one left to destroy.
    expect(resumed).toBe(point === "before-destroy" || point === "after-destroy" ? "finished" : "rotated");
    const current = (await stored()()) ?? "missing";
    expect(await logsIn(current)).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
    expect((await rows()).filter((r) => r.state === "current")).toHaveLength(1);
    expect((await rows()).filter((r) => r.state === "pending" || r.state === "retired")).toHaveLength(0);
    // The bootstrap was replaced one for one; only Vault's own crash window (minted, not yet stored)
    // leaves a secret id behind, an unused one.
    const orphans = point === "after-mint" ? 1 : 0;
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before + orphans);
  });

  it("a new secret id Vault refuses is never made current; the next run rotates cleanly", async () => {
    afterMint = async ({ accessor }) => {
      afterMint = undefined;
      await root().write(`auth/approle/role/${ROLE}/secret-id-accessor/destroy`, {
        secret_id_accessor: accessor,
      });
    };
    await expect(service().rotate(notLast)).rejects.toThrow("does not log in");
    expect(await auditText()).toContain("rotation.failed");
    // The bootstrap is still what replicas log in with.
    expect(await stored()()).toBe(bootstrap);
    expect(await logsIn(bootstrap)).toBe(true);

    // The refused one is destroyed (Vault no longer knowing it counts), and a new one is minted.
    expect(await service().rotate(notLast)).toBe("finished");
    expect(await service().rotate(notLast)).toBe("rotated");
    expect(await logsIn((await stored()()) ?? "")).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
  });

  it("a bootstrap secret id Vault does not know stops the rotation with a clear error", async () => {
    const accessor = (
      await root().write(`auth/approle/role/${ROLE}/secret-id/lookup`, { secret_id: bootstrap })
    ).data.secret_id_accessor;
    await root().write(`auth/approle/role/${ROLE}/secret-id-accessor/destroy`, {
      secret_id_accessor: accessor,
    });
    const rotating = createVaultSecretIdService({
      store,
      cipher,
      clock: () => new Date(),
      newId: randomUUID,
      log: silent,
      // Leasehold itself logs in some other way here (a root token), so only the bootstrap is unknown.
      setup: {
        appRole: vaultAppRole(createVaultSession({ address: vault.url, auth: { token: vault.rootToken } }), {
          address: vault.url,
          roleId: ROLE_ID,
          roleName: ROLE,
        }),
        roleId: ROLE_ID,
        bootstrapSecretId: bootstrap,
      },
    });
    await expect(rotating.rotate(notLast)).rejects.toThrow("Vault does not know VAULT_SECRET_ID");
    expect(await rows()).toEqual([]);
  });

  it("a stored secret id sealed for another role id is not offered to Vault", async () => {
    await service().rotate(notLast);
    expect(await storedVaultSecretId(store, cipher, "another-role-id")()).toBeUndefined();
  });
});
