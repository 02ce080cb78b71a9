import { randomBytes, randomUUID } from "node:crypto";
import { parseConfig } from "@leasehold/config";
import { createLogger, type OpenBroker, openBroker } from "@leasehold/runtime";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import { createPostgresDatabase, TEST_CONFIG, testRedisUrl } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Two replicas opened as the apps open them (openBroker), on one PostgreSQL database, logging in to the
 * Vault stand-in with AppRole. After one rotates the secret id and destroys the bootstrap, the other
 * (started with only the now-dead VAULT_SECRET_ID) still logs in: with the stored secret id.
 */
describe("Leasehold's Vault secret id across replicas", () => {
  const ROLE = "leasehold";
  const ROLE_ID = "replicas-role-id";
  const BOOTSTRAP = `bootstrap-${randomUUID()}`;
  let vault: VaultSandbox;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const opened: OpenBroker[] = [];
  const masterKey = randomBytes(32);
  const queuePrefix = `lh-secretid-${randomUUID().slice(0, 8)}`;

  const replica = async () => {
    const config = parseConfig(
      `${TEST_CONFIG.replaceAll("{issuer}", "https://issuer.example.com")}
vault:
  appRole:
    rotateSecretId: { schedule: { cron: "0 4 * * *" } }
`,
      "leasehold.yaml",
    );
    const open = await openBroker({
      config,
      databaseUrl: database.url,
      dataDir: "unused",
      queue: { backend: "redis", redisUrl: testRedisUrl(), prefix: queuePrefix },
      masterKey,
      aws: { region: "us-east-1" },
      vault: { address: vault.url, auth: { roleId: ROLE_ID, secretId: BOOTSTRAP } },
      log: createLogger("leasehold-test", "silent"),
    });
    opened.push(open);
    return open;
  };

  /** A run of the rotation, as the worker's rotationRun job makes it. */
  const rotate = async ({ broker }: OpenBroker, key: string) => {
    const run = await broker.rotations.start("vault-approle-secret-id", { key, by: "test" });
    return broker.rotations.execute(run.id, { isLast: false });
  };

  beforeAll(async () => {
    vault = await startVaultSandbox({
      policies: {
        "rotate-self": [
          { path: `auth/approle/role/${ROLE}/secret-id`, capabilities: ["update"] },
          { path: `auth/approle/role/${ROLE}/secret-id/lookup`, capabilities: ["update"] },
          { path: `auth/approle/role/${ROLE}/secret-id-accessor/destroy`, capabilities: ["update"] },
        ],
      },
      approle: [{ roleName: ROLE, roleId: ROLE_ID, secretId: BOOTSTRAP, policies: ["rotate-self"] }],
    });
    database = await createPostgresDatabase();
  }, 60_000);
  afterAll(async () => {
    for (const open of opened) await open.close();
    await database?.close();
    await vault?.close();
  });

  it("a replica started after the rotation logs in with the stored secret id, not the destroyed bootstrap", async () => {
    const first = await replica();
    await first.ensureSchedules();
    expect(await rotate(first, "first")).toBe("succeeded");
    // The bootstrap was destroyed: only the stored secret id is left for the role.
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(1);
    const loginsBefore = vault.requests.filter(
      (r) => r.path === "auth/approle/login" && r.status === 200,
    ).length;

    const second = await replica();
    // Its rotation needs a logged-in session first (to learn its role name), made with the stored one.
    expect(await rotate(second, "second")).toBe("succeeded");
    const logins = vault.requests.filter((r) => r.path === "auth/approle/login");
    expect(logins.filter((r) => r.status === 200).length).toBeGreaterThan(loginsBefore);
    expect(logins.filter((r) => r.status !== 200)).toEqual([]);
    expect(vault.appRoleSecretIdAccessors(ROLE)).toHaveLength(1);
  }, 60_000);
});
