import { randomBytes } from "node:crypto";
import { noMetrics, UpstreamError } from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import {
  createDatabasePasswords,
  createVaultSession,
  type DatabasePasswords,
  rotatedRole,
  type SecretStore,
  vaultKvStore,
} from "@leasehold/providers";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RotationSetup } from "./broker.js";
import type { RotationSettings } from "./rotation-service.js";
import { admin, createHarness, type Harness } from "./test-harness.js";

/**
 * Rotating a MariaDB user's password held in Vault KV v2, through the broker, against the real MariaDB
 * and the Vault stand-in. MariaDB checks passwords on every login, so "logs in" is real here.
 */
const MYSQL = { host: "127.0.0.1", port: 3306, user: "root" };
const noProvider = { kind: "sql" } as unknown as CredentialProvider;

const logsIn = async (username: string, password: string) => {
  try {
    const connection = await mysql.createConnection({
      host: "127.0.0.1",
      port: 3306,
      user: username,
      password,
    });
    await connection.end();
    return true;
  } catch {
    return false;
  }
};

describe("rotating a MariaDB password held in Vault KV", () => {
  const username = `rot_${randomBytes(4).toString("hex")}`;
  const initial = randomBytes(12).toString("hex");
  let vault: VaultSandbox;
  let passwords: DatabasePasswords;
  let rotation: RotationSettings;
  let h: Harness;
  /** Injected failures: a step name → how many times it should fail before working. */
  let failures: Map<string, { times: number; retryable: boolean }>;
  /** Rotation outcomes reported through the Metrics port. */
  const outcomes: string[] = [];
  const queued: string[] = [];
  const delays: number[] = [];

  const maybeFail = (step: string) => {
    const failure = failures.get(step);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw new UpstreamError(`injected failure at ${step}`, { retryable: failure.retryable });
    }
  };
  const kvValue = async (version?: number) => {
    const versions = vault.kv(`orders/${username}`);
    const pick = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    return pick?.data as { username: string; password: string } | undefined;
  };

  beforeAll(async () => {
    const root = await mysql.createConnection(MYSQL);
    await root.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${initial}'`);
    await root.end();
    vault = await startVaultSandbox();
    const session = createVaultSession({ address: vault.url, auth: { token: vault.rootToken } });
    await (await session.client()).write(`secret/data/orders/${username}`, {
      data: { username, password: initial, engine: "mysql" },
    });
    // As leasehold.yaml's rotation would give it: the secret is in Vault KV at secret/orders/<username>.
    rotation = {
      id: "orders-app",
      description: "the orders app's MySQL password",
      secret: { vaultKv: { mount: "secret", path: `orders/${username}` } },
      schedule: { cron: "0 3 * * *", jitterSeconds: 60 },
    };
    passwords = createDatabasePasswords();
    const store = vaultKvStore(session, "secret", `orders/${username}`);
    // The real store and database, with a hook before each step's effect to inject a failure.
    const flaky: SecretStore = {
      ...store,
      stagePending: async (token, value) => {
        maybeFail("create");
        await store.stagePending(token, value);
      },
      promote: async (token, value, base) => {
        maybeFail("finish");
        await store.promote(token, value, base);
      },
    };
    const role = rotatedRole(passwords, {
      engine: "mysql",
      adminUrl: "mysql://root@127.0.0.1:3306",
      username,
      passwordLength: 32,
    });
    const setup: RotationSetup = {
      rotations: new Map([
        [
          rotation.id,
          {
            config: rotation,
            secret: flaky,
            credential: {
              ...role,
              set: async (next) => {
                await role.set(next);
                maybeFail("set");
              },
              test: async (next) => {
                maybeFail("test");
                await role.test(next);
              },
            },
          },
        ],
      ]),
      enqueueRun: async (run, delayMs) => {
        queued.push(run.triggerKey);
        delays.push(delayMs ?? 0);
      },
    };
    h = await createHarness("pglite", noProvider, {
      targets: [],
      rotation: setup,
      metrics: { ...noMetrics, rotationOutcome: (id, outcome) => outcomes.push(`${id} ${outcome}`) },
    });
  });
  beforeEach(() => {
    failures = new Map();
    outcomes.length = 0;
  });
  afterAll(async () => {
    await h.close();
    await passwords.close();
    await vault.close();
    const root = await mysql.createConnection(MYSQL);
    await root.query(`DROP USER IF EXISTS '${username}'@'%'`);
    await root.end();
  });

  const rotateOnce = async (key: string) => {
    const run = await h.broker.rotations.start(rotation.id, { key, by: "test" });
    return { run, outcome: await h.broker.rotations.execute(run.id, { isLast: false }) };
  };

  it("rotates: the new current version logs in, the old password no longer does, the previous version stays readable", async () => {
    const before = await kvValue();
    const { run, outcome } = await rotateOnce("first");
    expect(outcome).toBe("succeeded");
    const after = await kvValue();
    expect(after?.password).not.toBe(before?.password);
    expect(after?.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await logsIn(username, after?.password ?? "")).toBe(true);
    expect(await logsIn(username, before?.password ?? "")).toBe(false);
    const versions = vault.kv(`orders/${username}`);
    expect(versions.at(-2)?.data).toMatchObject({ password: before?.password });
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 50, subjectId: run.id }),
    );
    expect(events.map((e) => e.action)).toEqual([
      "rotation.started",
      "rotation.step",
      "rotation.step",
      "rotation.step",
      "rotation.succeeded",
    ]);
    expect(JSON.stringify(events)).not.toContain(after?.password);
    expect(outcomes).toEqual([`${rotation.id} succeeded`]);
  });

  it.each(["create", "set", "test", "finish"])(
    "a crash at %s is finished by the retry, with no version lost",
    async (step) => {
      const before = await kvValue();
      failures.set(step, { times: 1, retryable: true });
      const run = await h.broker.rotations.start(rotation.id, { key: `crash-${step}`, by: "test" });
      await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(/injected/);
      // Between the crash and the retry the current version still logs in, unless the database already
      // took the new password, which Leasehold holds sealed with the run to finish or roll back.
      const during = await kvValue();
      expect(during?.password).toBe(before?.password);
      expect(await h.deps.store.read((r) => r.rotations.findById(run.id))).toMatchObject({
        state: "running",
      });

      expect(await h.broker.rotations.execute(run.id, { isLast: false })).toBe("succeeded");
      const after = await kvValue();
      expect(after?.password).not.toBe(before?.password);
      expect(await logsIn(username, after?.password ?? "")).toBe(true);
      expect(await logsIn(username, before?.password ?? "")).toBe(false);
    },
  );

  it("a new password that does not log in is rolled back: the current secret keeps working", async () => {
    const before = await kvValue();
    const versions = vault.kv(`orders/${username}`).length;
    failures.set("test", { times: 1, retryable: false });
    const run = await h.broker.rotations.start(rotation.id, { key: "refused", by: "test" });
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(
      /the new value does not work/,
    );
    expect(await logsIn(username, before?.password ?? "")).toBe(true);
    expect(vault.kv(`orders/${username}`)).toHaveLength(versions);
    const failed = await h.deps.store.read((r) => r.rotations.findById(run.id));
    expect(failed).toMatchObject({
      state: "failed",
      lastError: expect.stringMatching(/the new value does not work: /),
    });
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 50, subjectId: run.id }),
    );
    expect(events.at(-1)).toMatchObject({
      action: "rotation.failed",
      data: { rolledBack: true, step: "test" },
    });
    expect(outcomes).toEqual([`${rotation.id} failed`]);
  });

  it("a failure after the database took the new password, before the step was recorded, is undone", async () => {
    const before = await kvValue();
    failures.set("set", { times: 1, retryable: false });
    const run = await h.broker.rotations.start(rotation.id, { key: "set-unrecorded", by: "test" });
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(/injected/);
    expect(await logsIn(username, before?.password ?? "")).toBe(true);
    expect((await kvValue())?.password).toBe(before?.password);
    expect(await h.deps.store.read((r) => r.rotations.findById(run.id))).toMatchObject({
      state: "failed",
      step: "set",
    });
  });

  it("gives up after the last attempt and leaves the current secret working", async () => {
    const before = await kvValue();
    failures.set("finish", { times: 5, retryable: true });
    const run = await h.broker.rotations.start(rotation.id, { key: "exhausted", by: "test" });
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(/injected/);
    await expect(h.broker.rotations.execute(run.id, { isLast: true })).rejects.toThrow(/injected/);
    expect(await logsIn(username, before?.password ?? "")).toBe(true);
    expect((await kvValue())?.password).toBe(before?.password);
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
  });

  it("a run whose job was lost is queued again by the sweep, and a finished one is not", async () => {
    const lost = await h.broker.rotations.start(rotation.id, { key: "lost-job", by: "system:schedule" });
    const later = new Date(Date.now() + 3_600_000);
    expect(await h.broker.rotations.resumeStalled(later, 100)).toBeGreaterThanOrEqual(1);
    expect(queued).toContain("lost-job");
    await h.broker.rotations.execute(lost.id, { isLast: false });
    queued.length = 0;
    await h.broker.rotations.resumeStalled(later, 100);
    expect(queued).not.toContain("lost-job");
  });

  it("a schedule's tick queues one run under a trigger of its own, after at most the jitter", async () => {
    queued.length = 0;
    delays.length = 0;
    await h.broker.rotations.tick(rotation.id, "repeat:orders:1700000000000");
    await h.broker.rotations.tick("not-configured", "repeat:x:1");
    expect(queued).toEqual(["tick-repeat:orders:1700000000000"]);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(0);
    expect(delays[0]).toBeLessThan(60_000);
  });

  it("a trigger starts one run, and only admins may run or check rotations", async () => {
    const first = await h.broker.rotations.start(rotation.id, { key: "tick-1", by: "system:schedule" });
    const again = await h.broker.rotations.start(rotation.id, { key: "tick-1", by: "system:schedule" });
    expect(again.id).toBe(first.id);
    await expect(h.broker.rotations.dryRun({ ...admin, groups: [] }, rotation.id)).rejects.toThrow(
      /only admins/,
    );
    const plan = await h.broker.rotations.dryRun(admin, rotation.id);
    expect(plan).toMatchObject({ ok: true, checks: [{ ok: true }, { ok: true }] });
    await h.broker.rotations.execute(first.id, { isLast: false });
  });
});
