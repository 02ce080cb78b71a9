import { randomBytes } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { UpstreamError } from "@leasehold/domain";
import {
  type CredentialProvider,
  createDatabasePasswords,
  type DatabasePasswords,
  rotatedRole,
  type SecretStore,
  secretsManagerStore,
} from "@leasehold/providers";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RotationSetup } from "./broker.js";
import { createHarness, type Harness } from "./test-harness.js";

/**
 * Rotation through AWS Secrets Manager's four-step protocol on the real MariaDB (which checks every
 * password): a crash at any step is resumed, and at every moment one of the stored versions logs in.
 */
const MYSQL = { host: "127.0.0.1", port: 3306, user: "root" };
const noProvider = { kind: "sql" } as unknown as CredentialProvider;

const logsIn = async (username: string, password: string | undefined) => {
  if (!password) return false;
  try {
    await (await mysql.createConnection({ ...MYSQL, user: username, password })).end();
    return true;
  } catch {
    return false;
  }
};

describe("rotating a MariaDB password held in Secrets Manager", () => {
  const username = `rsm_${randomBytes(4).toString("hex")}`;
  const secretId = `prod/orders/${username}`;
  let aws: AwsSandbox;
  let client: SecretsManagerClient;
  let passwords: DatabasePasswords;
  let h: Harness;
  let failures: Map<string, number>;
  let adminUrl = "mysql://root@127.0.0.1:3306";

  const maybeFail = (step: string) => {
    const left = failures.get(step) ?? 0;
    if (left > 0) {
      failures.set(step, left - 1);
      throw new UpstreamError(`injected crash at ${step}`, { retryable: true });
    }
  };
  const stage = async (stage: "AWSCURRENT" | "AWSPENDING" | "AWSPREVIOUS") => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
      return JSON.parse(out.SecretString ?? "{}") as { password?: string };
    } catch {
      return undefined;
    }
  };
  /** Whether the password of AWSCURRENT or AWSPENDING logs in right now. */
  const aStoredVersionLogsIn = async () =>
    (await logsIn(username, (await stage("AWSCURRENT"))?.password)) ||
    (await logsIn(username, (await stage("AWSPENDING"))?.password));

  beforeAll(async () => {
    const initial = randomBytes(12).toString("hex");
    const root = await mysql.createConnection(MYSQL);
    await root.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${initial}'`);
    await root.end();
    aws = await startAwsSandbox({
      roles: [],
      secrets: [
        { name: secretId, secretString: JSON.stringify({ engine: "mysql", username, password: initial }) },
      ],
    });
    client = new SecretsManagerClient({
      region: "us-east-1",
      endpoint: aws.url,
      credentials: SANDBOX_ACCESS_KEY,
    });
    passwords = createDatabasePasswords();
    // Each rotation's Secrets Manager secret; "missing-secret" names one that does not exist.
    const secretIds = new Map([
      ["orders-app", secretId],
      ["missing-secret", "prod/nothing-here"],
    ]);
    const secretStoreFor = (id: string): SecretStore => {
      const store = secretsManagerStore(client, id);
      const flaky: SecretStore = {
        ...store,
        stagePending: async (token, value) => {
          await store.stagePending(token, value);
          maybeFail("create");
        },
        promote: async (token, value, base) => {
          await store.promote(token, value, base);
          maybeFail("finish");
        },
      };
      return flaky;
    };
    // The admin URL is read at each step, so a test can make the database unreachable.
    const role = () => rotatedRole(passwords, { engine: "mysql", adminUrl, username, passwordLength: 32 });
    const setup: RotationSetup = {
      rotations: new Map(
        [...secretIds].map(([id, rotationSecretId]) => [
          id,
          {
            config: {
              id,
              description: "",
              secret: { awsSecretsManager: { secretId: rotationSecretId } },
              schedule: { cron: "0 3 * * *", jitterSeconds: 0 },
            },
            secret: secretStoreFor(rotationSecretId),
            credential: {
              next: (current, token) => role().next(current, token),
              set: async (next) => {
                await role().set(next);
                maybeFail("set");
              },
              test: async (next) => {
                await role().test(next);
                maybeFail("test");
              },
              retire: (previous, next) => role().retire(previous, next),
              undo: (previous, next) => role().undo(previous, next),
              check: (current) => role().check(current),
            },
          },
        ]),
      ),
      enqueueRun: async () => {},
    };
    h = await createHarness("pglite", noProvider, { targets: [], rotation: setup });
  });
  beforeEach(() => {
    failures = new Map();
    adminUrl = "mysql://root@127.0.0.1:3306";
  });
  afterAll(async () => {
    await h.close();
    await passwords.close();
    await aws.close();
    const root = await mysql.createConnection(MYSQL);
    await root.query(`DROP USER IF EXISTS '${username}'@'%'`);
    await root.end();
  });

  it("moves AWSCURRENT to a new password that logs in; AWSPREVIOUS holds the old one, which no longer does", async () => {
    const before = await stage("AWSCURRENT");
    const run = await h.broker.rotations.start("orders-app", { key: "plain", by: "test" });
    expect(await h.broker.rotations.execute(run.id, { isLast: false })).toBe("succeeded");
    const current = await stage("AWSCURRENT");
    expect(current?.password).not.toBe(before?.password);
    expect(await logsIn(username, current?.password)).toBe(true);
    expect((await stage("AWSPREVIOUS"))?.password).toBe(before?.password);
    expect(await logsIn(username, before?.password)).toBe(false);
    const versions = aws.secret(secretId).versions;
    expect(versions.find((v) => v.stages.includes("AWSCURRENT"))?.versionId).toBe(run.id);
    const trail = JSON.stringify(await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 100 })));
    expect(trail).not.toContain(current?.password);
  });

  it.each(["create", "set", "test", "finish"])(
    "a crash after %s is resumed, and a stored version logs in at every moment",
    async (step) => {
      const before = await stage("AWSCURRENT");
      failures.set(step, 1);
      const run = await h.broker.rotations.start("orders-app", { key: `crash-${step}`, by: "test" });
      expect(await aStoredVersionLogsIn()).toBe(true);
      await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(/injected crash/);
      expect(await aStoredVersionLogsIn()).toBe(true);
      expect(await h.broker.rotations.execute(run.id, { isLast: false })).toBe("succeeded");
      expect(await aStoredVersionLogsIn()).toBe(true);
      const current = await stage("AWSCURRENT");
      expect(current?.password).not.toBe(before?.password);
      expect(await logsIn(username, current?.password)).toBe(true);
      // One pending version for the run, whatever was retried.
      expect(aws.secret(secretId).versions.filter((v) => v.versionId === run.id)).toHaveLength(1);
    },
  );

  it("an unknown secret fails clearly at run time and changes nothing", async () => {
    const before = await stage("AWSCURRENT");
    const run = await h.broker.rotations.start("missing-secret", { key: "missing", by: "test" });
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(
      /ResourceNotFoundException/,
    );
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect(await logsIn(username, before?.password)).toBe(true);
  });

  it("an unreachable database is retried, then fails with the current secret untouched", async () => {
    const before = await stage("AWSCURRENT");
    adminUrl = "mysql://root@127.0.0.1:9";
    const run = await h.broker.rotations.start("orders-app", { key: "db-down", by: "test" });
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow();
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("running");
    await expect(h.broker.rotations.execute(run.id, { isLast: true })).rejects.toThrow();
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect((await stage("AWSCURRENT"))?.password).toBe(before?.password);
    expect(await logsIn(username, before?.password)).toBe(true);
  });
});
