import { randomBytes } from "node:crypto";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { UpstreamError } from "@leasehold/domain";
import {
  alternatingRoles,
  type CredentialProvider,
  createDatabasePasswords,
  createVaultSession,
  type DatabasePasswords,
  type RotatedCredential,
  rotatedRole,
  type SecretStore,
  type SecretValue,
  secretsManagerStore,
  sqlRoleName,
  vaultKvStore,
} from "@leasehold/providers";
import { SANDBOX_ACCESS_KEY, startAwsSandbox, startVaultSandbox } from "@leasehold/sandbox";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Rotation, RotationSettings } from "./rotation-service.js";
import { admin, createHarness, type Harness } from "./test-harness.js";

/**
 * Rotating database users through the broker on the real PostgreSQL and MariaDB, with the secret in
 * the Vault KV and Secrets Manager stand-ins: one role rotated in place, and two users taking turns.
 * Around every upstream effect of a run the current secret is tried (PostgreSQL here trusts local
 * logins, so there the stored SCRAM verifier is checked against the password; MariaDB checks logins).
 */
const noProvider = { kind: "sql" } as unknown as CredentialProvider;

/** Where a test keeps rotated secrets: it writes them, a rotation reads them through `store`. */
type SecretBackend = {
  create(
    path: string,
    value: SecretValue,
  ): Promise<{ secret: RotationSettings["secret"]; store: SecretStore }>;
  overwrite(path: string, value: SecretValue): Promise<void>;
  close(): Promise<void>;
};

async function openVaultKv(): Promise<SecretBackend> {
  const vault = await startVaultSandbox();
  const session = createVaultSession({ address: vault.url, auth: { token: vault.rootToken } });
  const write = async (path: string, value: SecretValue) =>
    void (await (await session.client()).write(`secret/data/${path}`, { data: value }));
  return {
    async create(path, value) {
      await write(path, value);
      return { secret: { vaultKv: { mount: "secret", path } }, store: vaultKvStore(session, "secret", path) };
    },
    overwrite: write,
    close: () => vault.close(),
  };
}

async function openSecretsManager(): Promise<SecretBackend> {
  const aws = await startAwsSandbox({ roles: [], secrets: [] });
  const client = new SecretsManagerClient({
    region: "us-east-1",
    endpoint: aws.url,
    credentials: SANDBOX_ACCESS_KEY,
  });
  return {
    async create(path, value) {
      await client.send(new CreateSecretCommand({ Name: path, SecretString: JSON.stringify(value) }));
      return { secret: { awsSecretsManager: { secretId: path } }, store: secretsManagerStore(client, path) };
    },
    async overwrite(path, value) {
      await client.send(new PutSecretValueCommand({ SecretId: path, SecretString: JSON.stringify(value) }));
    },
    async close() {
      client.destroy();
      await aws.close();
    },
  };
}

const backends = { vaultKv: openVaultKv, awsSecretsManager: openSecretsManager };

/** A user of the scratch database with SELECT on its orders table, created by the superuser. */
async function createUser(scratch: SqlScratch, name: string, password: string) {
  if (scratch.engine === "postgres") {
    await scratch.superuser(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}'`);
    await scratch.superuser(`GRANT SELECT ON orders TO "${name}"`);
  } else {
    await scratch.superuser("CREATE USER ?@'%' IDENTIFIED BY ?", [name, password]);
    await scratch.superuser(`GRANT SELECT ON ${scratch.orders} TO ?@'%'`, [name]);
  }
}

/** The items a user reads from the scratch database's orders table, logged in with `password`. */
async function readOrders(scratch: SqlScratch, value: SecretValue | undefined) {
  const { username = "", password = "" } = value ?? {};
  const url =
    scratch.engine === "postgres"
      ? `postgresql://${username}:${password}@127.0.0.1:5432/${scratch.database}`
      : `mysql://${username}:${password}@127.0.0.1:3306/${scratch.database}`;
  const session = await scratch.login(url);
  try {
    const result = await session.query(`SELECT item FROM ${scratch.orders} ORDER BY id`);
    // pg answers { rows }, mysql2 [rows, fields].
    const rows = (Array.isArray(result) ? result[0] : (result as { rows: unknown }).rows) as {
      item: string;
    }[];
    return rows.map((row) => row.item);
  } finally {
    await session.close();
  }
}

/** Where a test makes a run crash: after each upstream effect, or before the promote. */
const CRASH_POINTS = ["next", "create", "set", "test", "finish", "promoted"] as const;
type CrashPoint = (typeof CRASH_POINTS)[number];

/** The users each suite creates (or, for clone and missing, names without creating). */
const USERS = ["single", "first", "second", "source", "clone", "lonely", "missing"] as const;
type UserKey = (typeof USERS)[number];

const cases = (["postgres", "mysql"] as const).flatMap((engine) =>
  (["vaultKv", "awsSecretsManager"] as const).map((store) => ({ engine, store })),
);

describe.each(cases)("rotating $engine users held in $store", ({ engine, store }) => {
  let scratch: SqlScratch;
  let secrets: SecretBackend;
  let passwords: DatabasePasswords;
  let h: Harness;
  const rotations = new Map<string, Rotation>();
  /** Injected failures: a crash point → whether the next one there is retryable. */
  let failures: Map<CrashPoint, { retryable: boolean }>;
  /** Whether the current secret logged in, before and after each upstream effect of a run. */
  let probes: { at: string; ok: boolean }[];
  /** The value each rotation's last "set" gave the database. */
  const lastSet = new Map<string, SecretValue>();
  const stores = new Map<string, SecretStore>();
  const paths = new Map<string, string>();
  const name = (n: number) => sqlRoleName(scratch.grantId(), n);

  const logsIn = (value: SecretValue | undefined) =>
    scratch.passwordMatches(value?.username ?? "", value?.password ?? "");
  const current = async (id: string) => (await stores.get(id)?.readCurrent())?.value;
  const crashAt = (point: CrashPoint) => {
    const failure = failures.get(point);
    if (failure) {
      failures.delete(point);
      throw new UpstreamError(`injected crash at ${point}`, { retryable: failure.retryable });
    }
  };

  /**
   * Adds a rotation whose every upstream effect is probed (does the current secret log in?), with a
   * crash point after each effect and one before the promote.
   */
  const addRotation = async (
    id: string,
    initial: SecretValue,
    credential: (passwords: DatabasePasswords) => RotatedCredential,
  ) => {
    const path = `rotations/${id}-${randomBytes(3).toString("hex")}`;
    const created = await secrets.create(path, initial);
    stores.set(id, created.store);
    paths.set(id, path);
    const probe = async (at: string) => {
      probes.push({ at, ok: await logsIn((await created.store.readCurrent()).value) });
    };
    const around = async <T>(label: string, effect: () => Promise<T>, point?: CrashPoint) => {
      await probe(`${label}:before`);
      if (point === "finish") crashAt(point);
      const result = await effect();
      await probe(`${label}:after`);
      if (point && point !== "finish") crashAt(point);
      return result;
    };
    const real = credential(passwords);
    const raw = created.store;
    rotations.set(id, {
      config: {
        id,
        description: "",
        secret: created.secret,
        schedule: { cron: "0 3 * * *", jitterSeconds: 0 },
      },
      secret: {
        ...raw,
        stagePending: (token, value) => around("stage", () => raw.stagePending(token, value), "create"),
        promote: (token, value, base) => around("promote", () => raw.promote(token, value, base), "finish"),
      },
      credential: {
        ...real,
        next: (value, token) => around("next", () => real.next(value, token), "next"),
        set: (next) => {
          lastSet.set(id, next);
          return around("set", () => real.set(next), "set");
        },
        test: (next) => around("test", () => real.test(next), "test"),
        retire: (previous, next) => around("retire", () => real.retire(previous, next), "promoted"),
        undo: (previous, next) => around("undo", () => real.undo(previous, next)),
      },
    });
  };

  const rotate = async (id: string, key: string) => {
    const run = await h.broker.rotations.start(id, { key, by: "test" });
    return { run, outcome: await h.broker.rotations.execute(run.id, { isLast: false }) };
  };
  const settings = () => ({ engine, adminUrl: scratch.adminUrl, passwordLength: 32 });
  const alternating =
    (usernames: [string, string], clone = false) =>
    (p: DatabasePasswords) =>
      alternatingRoles(p, { ...settings(), usernames, clone });
  let users: Record<UserKey, string>;

  beforeAll(async () => {
    scratch = await createSqlScratch(engine);
    if (engine === "mysql") {
      // Finding the users (mysql.user) and copying grants (SHOW GRANTS FOR another account).
      await scratch.superuser("GRANT SELECT ON mysql.* TO ?@'%'", [scratch.adminUser]);
    }
    secrets = await backends[store]();
    passwords = createDatabasePasswords();
    h = await createHarness("pglite", noProvider, {
      targets: [],
      rotation: { rotations, enqueueRun: async () => undefined },
    });
    users = Object.fromEntries(USERS.map((key, n) => [key, name(n + 1)])) as Record<UserKey, string>;
    const create = async (key: UserKey) => {
      const password = randomBytes(12).toString("hex");
      await createUser(scratch, users[key], password);
      return { username: users[key], password, engine };
    };
    await addRotation("single", await create("single"), (p) =>
      rotatedRole(p, { ...settings(), username: users.single }),
    );
    const first = await create("first");
    await create("second");
    await addRotation("alternating", first, alternating([users.first, users.second]));
    await addRotation("shape", first, alternating([users.first, users.second]));
    await addRotation("cloned", await create("source"), alternating([users.source, users.clone], true));
    await addRotation("missing", await create("lonely"), alternating([users.lonely, users.missing]));
  });
  beforeEach(() => {
    failures = new Map();
    probes = [];
  });
  afterAll(async () => {
    await h?.close();
    await passwords?.close();
    await secrets?.close();
    await scratch?.drop();
  });

  it("one role rotated in place: its new password logs in, the old one not, and between set and finish the current secret does not (the known window)", async () => {
    const before = await current("single");
    expect(await rotate("single", "plain")).toMatchObject({ outcome: "succeeded" });
    const after = await current("single");
    expect(after?.username).toBe(before?.username);
    expect(await logsIn(after)).toBe(true);
    expect(await logsIn(before)).toBe(false);
    expect(probes.filter((p) => !p.ok).map((p) => p.at)).toEqual([
      "set:after",
      "test:before",
      "test:after",
      "promote:before",
    ]);
  });

  it.each(CRASH_POINTS)("one role: a crash at %s is finished by the retry", async (point) => {
    const before = await current("single");
    failures.set(point, { retryable: true });
    const started = await h.broker.rotations.start("single", { key: `crash-${point}`, by: "test" });
    await expect(h.broker.rotations.execute(started.id, { isLast: false })).rejects.toThrow(/injected/);
    expect(await h.deps.store.read((r) => r.rotations.findById(started.id))).toMatchObject({
      state: "running",
    });
    expect(await h.broker.rotations.execute(started.id, { isLast: false })).toBe("succeeded");
    const after = await current("single");
    expect(after?.password).not.toBe(before?.password);
    expect(await logsIn(after)).toBe(true);
    expect(await logsIn(before)).toBe(false);
    // Only inside the window: from the database taking the new password until the promote.
    for (const failed of probes.filter((p) => !p.ok)) {
      expect(["set:before", "set:after", "test:before", "test:after", "promote:before"]).toContain(failed.at);
    }
  });

  it("two users: the run switches the secret to the other user, and the previous one keeps working", async () => {
    const before = await current("alternating");
    expect(await rotate("alternating", "plain")).toMatchObject({ outcome: "succeeded" });
    const after = await current("alternating");
    expect(after?.username).toBe(before?.username === users.first ? users.second : users.first);
    expect(after?.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await logsIn(after)).toBe(true);
    expect(await logsIn(before)).toBe(true);
    expect(probes.length).toBeGreaterThan(8);
    expect(probes.filter((p) => !p.ok)).toEqual([]);
    if (engine === "postgres") {
      // The verifier was stored as sent: a SCRAM verifier of the new password.
      const [row] = await scratch.superuser("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [
        after?.username,
      ]);
      expect(String(row?.rolpassword)).toMatch(/^SCRAM-SHA-256\$4096:/);
    }
  });

  it.each(CRASH_POINTS)(
    "two users: at a crash at %s and after it the current secret logs in, and the retry finishes",
    async (point) => {
      const before = await current("alternating");
      failures.set(point, { retryable: true });
      const started = await h.broker.rotations.start("alternating", { key: `crash-${point}`, by: "test" });
      await expect(h.broker.rotations.execute(started.id, { isLast: false })).rejects.toThrow(/injected/);
      const during = await current("alternating");
      expect(await logsIn(during)).toBe(true);
      expect(await h.broker.rotations.execute(started.id, { isLast: false })).toBe("succeeded");
      const after = await current("alternating");
      expect(after?.username).not.toBe(before?.username);
      expect(await logsIn(after)).toBe(true);
      expect(await logsIn(before)).toBe(true);
      expect(probes.filter((p) => !p.ok)).toEqual([]);
    },
  );

  it("two users: a new password that does not log in is undone; the current user is untouched and the staged password works nowhere", async () => {
    const before = await current("alternating");
    failures.set("test", { retryable: false });
    const { id } = await h.broker.rotations.start("alternating", { key: "refused", by: "test" });
    await expect(h.broker.rotations.execute(id, { isLast: false })).rejects.toThrow(
      /the new value does not work/,
    );
    expect(await current("alternating")).toEqual(before);
    expect(await logsIn(before)).toBe(true);
    const staged = lastSet.get("alternating");
    expect(staged?.username).not.toBe(before?.username);
    expect(await logsIn(staged)).toBe(false);
    expect(probes.filter((p) => !p.ok)).toEqual([]);
  });

  it("clone: the first run creates the alternate with the first user's privileges, and later runs alternate", async () => {
    const source = await current("cloned");
    expect(await scratch.roleExists(users.clone)).toBe(false);
    const plan = await h.broker.rotations.dryRun(admin, "cloned");
    expect(plan.ok).toBe(true);
    expect(plan.checks.at(-1)).toEqual({
      check: `the user ${users.clone} exists`,
      ok: true,
      detail: `the next run creates it as a clone of ${users.source}`,
    });
    expect(await scratch.roleExists(users.clone)).toBe(false);

    // A crash right after the clone was made: the retry makes it again, changing nothing.
    failures.set("next", { retryable: true });
    const first = await h.broker.rotations.start("cloned", { key: "first", by: "test" });
    await expect(h.broker.rotations.execute(first.id, { isLast: false })).rejects.toThrow(/injected/);
    expect(await h.broker.rotations.execute(first.id, { isLast: false })).toBe("succeeded");
    const cloned = await current("cloned");
    expect(cloned?.username).toBe(users.clone);
    expect(await logsIn(cloned)).toBe(true);
    expect(await readOrders(scratch, cloned)).toEqual(["apples", "pears"]);
    expect(await logsIn(source)).toBe(true);

    expect(await rotate("cloned", "second")).toMatchObject({ outcome: "succeeded" });
    expect((await current("cloned"))?.username).toBe(users.source);
    expect(await rotate("cloned", "third")).toMatchObject({ outcome: "succeeded" });
    const again = await current("cloned");
    expect(again?.username).toBe(users.clone);
    expect(await logsIn(again)).toBe(true);
    expect(await readOrders(scratch, again)).toEqual(["apples", "pears"]);
    expect(probes.filter((p) => !p.ok)).toEqual([]);
  });

  it("an alternate user that does not exist: the dry run says so, and a run changes nothing", async () => {
    const message = `the alternate user ${users.missing} does not exist in the database; create it or set cloneAlternate: true`;
    const plan = await h.broker.rotations.dryRun(admin, "missing");
    expect(plan.ok).toBe(false);
    expect(plan.checks).toContainEqual({
      check: `the user ${users.missing} exists`,
      ok: false,
      detail: message,
    });
    const before = await stores.get("missing")?.readCurrent();
    const { id } = await h.broker.rotations.start("missing", { key: "missing", by: "test" });
    await expect(h.broker.rotations.execute(id, { isLast: false })).rejects.toThrow(message);
    expect(await h.deps.store.read((r) => r.rotations.findById(id))).toMatchObject({ state: "failed" });
    expect(await stores.get("missing")?.readCurrent()).toEqual(before);
    expect(await scratch.roleExists(users.missing)).toBe(false);
    expect(probes.map((p) => p.at)).toEqual(["next:before"]);
  });

  it.each([
    ["password", /has no password; add it to the secret/],
    ["username", /has no username; add it to the secret/],
  ])(
    "a secret without its %s is refused at dry run and at create, nothing changed",
    async (field, message) => {
      const value =
        field === "password" ? { username: users.first, engine } : { password: "x".repeat(20), engine };
      await secrets.overwrite(paths.get("shape") ?? "", value);
      await expect(h.broker.rotations.dryRun(admin, "shape")).rejects.toThrow(message);
      const { id } = await h.broker.rotations.start("shape", { key: `without-${field}`, by: "test" });
      await expect(h.broker.rotations.execute(id, { isLast: false })).rejects.toThrow(message);
      expect(await current("shape")).toEqual(value);
      expect(probes.map((p) => p.at)).toEqual(["next:before"]);
    },
  );

  it("a secret naming neither user fails the dry run's check and is refused at create, nothing changed", async () => {
    const value = { username: users.lonely, password: "y".repeat(20), engine };
    await secrets.overwrite(paths.get("shape") ?? "", value);
    const plan = await h.broker.rotations.dryRun(admin, "shape");
    expect(plan.ok).toBe(false);
    expect(plan.checks[0]).toEqual({
      check: "the secret names one of the rotated users",
      ok: false,
      detail: `it names ${users.lonely}, neither ${users.first} nor ${users.second}`,
    });
    const { id } = await h.broker.rotations.start("shape", { key: "neither", by: "test" });
    await expect(h.broker.rotations.execute(id, { isLast: false })).rejects.toThrow(
      `the secret's username is neither ${users.first} nor ${users.second}; fix the secret or the rotation`,
    );
    expect(await current("shape")).toEqual(value);
  });
});
