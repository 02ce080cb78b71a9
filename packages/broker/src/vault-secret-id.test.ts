import {
  type CredentialProvider,
  createVaultSession,
  type VaultAppRolePort,
  vaultAppRole,
  vaultClientFor,
} from "@leasehold/providers";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Rotation, RotationSetup } from "./rotation-service.js";
import { admin, createHarness, type Harness } from "./test-harness.js";
import {
  storedVaultSecretId,
  VAULT_SECRET_ID_ROTATION,
  vaultSecretIdRotation,
} from "./vault-secret-id-rotation.js";

/**
 * Rotating Leasehold's own AppRole secret id as a rotation like the others (start and execute, as the
 * worker's rotationRun job does), on real PostgreSQL against the Vault stand-in, with a crash injected
 * at every call to Vault: whatever the step, the secret id Leasehold would log in with next still logs
 * in, and the run's retry finishes the rotation.
 */
const ROLE = "leasehold";
const ROLE_ID = "leasehold-role-id";
const ID = VAULT_SECRET_ID_ROTATION;
const noProvider = { kind: "sql" } as unknown as CredentialProvider;
const notLast = { isLast: false };

/** A crash: an unexpected error, so the run is retried, and nothing is recorded as failed. */
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
  let h: Harness;
  let bootstrap: string;
  let crashAt: CrashPoint | undefined;
  /** Runs just after Vault minted a secret id (the test's chance to meddle with it). */
  let afterMint: ((minted: { secretId: string; accessor: string }) => Promise<void>) | undefined;
  const rotations = new Map<string, Rotation>();
  const setup: RotationSetup = { rotations, enqueueRun: async () => undefined };

  const root = () => vaultClientFor({ address: vault.url }, vault.rootToken);
  const maybeCrash = (point: CrashPoint) => {
    if (crashAt === point) {
      crashAt = undefined;
      throw new Crash(`crash ${point}`);
    }
  };
  const stored = () => storedVaultSecretId(h.deps.store, h.deps.cipher, ROLE_ID);
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
  /** The real port, with a crash point around each of its calls that changes something. */
  const crashingPort = (): VaultAppRolePort => {
    const real = vaultAppRole(session(), { address: vault.url, roleId: ROLE_ID });
    return {
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
  };
  const start = (key: string) => h.broker.rotations.start(ID, { key, by: "test" });
  const rotate = async (key: string) => h.broker.rotations.execute((await start(key)).id, notLast);
  const rows = () =>
    h.db.query<{ state: string; sealed: Buffer | null }>(
      "SELECT state, sealed FROM vault_secret_ids ORDER BY created_at",
    );
  const auditText = async () =>
    JSON.stringify([
      await h.db.query("SELECT action, subject_id, data FROM audit_events ORDER BY seq"),
      await h.db.query("SELECT * FROM rotation_runs"),
    ]);

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
    h = await createHarness("postgres", noProvider, { targets: [], rotation: setup });
    // Each test starts from a fresh bootstrap secret id, as an operator would hand out in VAULT_SECRET_ID.
    bootstrap = (await root().write(`auth/approle/role/${ROLE}/secret-id`, {})).data.secret_id;
    crashAt = undefined;
    afterMint = undefined;
    const own = { appRole: crashingPort(), roleId: ROLE_ID, bootstrapSecretId: bootstrap };
    rotations.set(ID, vaultSecretIdRotation({ ...own, schedule: { cron: "0 4 * * *" } }, h.deps));
  });
  afterEach(() => h.close());

  it("mints, tests and stores a new secret id that every replica's next login uses, then destroys the bootstrap", async () => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    expect(await rotate("first")).toBe("succeeded");

    const current = await stored()();
    expect(current).toBeDefined();
    expect(current).not.toBe(bootstrap);
    expect(await logsIn(current ?? "")).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before);
    // A replica starting now logs in with the stored one (the bootstrap no longer works).
    expect((await (await session().client()).tokenLookupSelf()).data.meta).toEqual({ role_name: ROLE });
    expect((await rows()).map((r) => r.state)).toEqual(["current"]);

    // A second run replaces the stored one the same way, and wipes the one it replaced.
    expect(await rotate("second")).toBe("succeeded");
    expect(await logsIn(current ?? "")).toBe(false);
    expect(await logsIn((await stored()()) ?? "")).toBe(true);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before);
    expect((await rows()).map((r) => [r.state, r.sealed === null])).toEqual([
      ["retired", true],
      ["current", false],
    ]);
  });

  it("is listed and dry-run like any rotation", async () => {
    expect((await h.broker.rotations.list(admin)).map((r) => [r.id, r.kind])).toEqual([[ID, "vaultAppRole"]]);
    const plan = await h.broker.rotations.dryRun(admin, ID);
    expect(plan.ok).toBe(true);
    expect(plan.checks.map((c) => [c.check, c.ok])).toEqual([
      ["role", true],
      ["login", true],
    ]);
    expect(JSON.stringify(plan)).not.toContain(bootstrap);
    // The dry run changed nothing.
    expect(await rows()).toEqual([]);
  });

  it("audits each step without a secret id or an accessor", async () => {
    const accessorsBefore = vault.appRoleSecretIdAccessors(ROLE);
    await rotate("audited");
    const text = await auditText();
    expect(text).toContain(ID);
    for (const step of ["create", "set", "test", "rotation.succeeded"]) expect(text).toContain(step);
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
  ])("a crash %s leaves a working secret id, and the run's retry finishes the rotation", async (point) => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    crashAt = point;
    const run = await start(`crash-${point}`);
    await expect(h.broker.rotations.execute(run.id, notLast)).rejects.toThrow(Crash);
    // Whatever was recorded, the secret id a replica would log in with now works.
    expect(await logsIn((await stored()()) ?? bootstrap)).toBe(true);
    await (await session().client()).tokenLookupSelf();

    expect(await h.broker.rotations.execute(run.id, notLast)).toBe("succeeded");
    const current = (await stored()()) ?? "missing";
    expect(await logsIn(current)).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
    expect((await rows()).map((r) => r.state)).toEqual(["current"]);
    // The bootstrap was replaced one for one; only Vault's own crash window (minted, not yet sealed
    // with the run) leaves a secret id behind, an unused one its TTL expires.
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
    await expect(rotate("refused")).rejects.toThrow(
      "the new value does not work: the new Vault secret id does not log in",
    );
    expect(await auditText()).toContain("rotation.failed");
    // The bootstrap is still what replicas log in with.
    expect(await stored()()).toBeUndefined();
    expect(await logsIn(bootstrap)).toBe(true);

    // The failed run's pending row is retired by the next run, which mints a new one.
    expect(await rotate("after-refusal")).toBe("succeeded");
    expect(await logsIn((await stored()()) ?? "")).toBe(true);
    expect(await logsIn(bootstrap)).toBe(false);
    expect((await rows()).map((r) => r.state)).toEqual(["retired", "current"]);
  });

  it("a run that fails before its secret id is current destroys the new one in Vault", async () => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    crashAt = "before-test";
    const run = await start("exhausted");
    await expect(h.broker.rotations.execute(run.id, { isLast: true })).rejects.toThrow(Crash);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before);
    expect(await logsIn(bootstrap)).toBe(true);
    expect(await stored()()).toBeUndefined();
  });

  it("a second run waits while another run's secret id is staged, and destroys its own when it gives up", async () => {
    const before = vault.appRoleSecretIdAccessors(ROLE).length;
    crashAt = "before-test";
    const first = await start("staged-first");
    await expect(h.broker.rotations.execute(first.id, notLast)).rejects.toThrow(Crash);

    const second = await start("staged-second");
    await expect(h.broker.rotations.execute(second.id, notLast)).rejects.toThrow("under way");
    await expect(h.broker.rotations.execute(second.id, { isLast: true })).rejects.toThrow("under way");
    // The second run's secret id was minted, then destroyed by its undo: only the first's is left.
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before + 1);
    expect(await stored()()).toBeUndefined();

    expect(await h.broker.rotations.execute(first.id, notLast)).toBe("succeeded");
    expect(await logsIn((await stored()()) ?? "")).toBe(true);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(before);
  });

  it("a stored secret id sealed for another role id is not offered to Vault", async () => {
    await rotate("sealed");
    expect(await storedVaultSecretId(h.deps.store, h.deps.cipher, "another-role-id")()).toBeUndefined();
  });
});
