import { fileURLToPath } from "node:url";
import { ConfigError, loadConfigFile } from "@leasehold/config";
import { createAwsClients, createDatabasePasswords, createVaultSession } from "@leasehold/providers";
import { describe, expect, it } from "vitest";
import { providersFor, rotationSetup, rotationUrlKey } from "./backends.js";

// The commented example has an aws-role, a sql and a vault target, and a rotation into a PostgreSQL role.
const config = loadConfigFile(fileURLToPath(new URL("../../../leasehold.example.yaml", import.meta.url)));
const aws = createAwsClients({ region: "us-east-1" });
const vault = createVaultSession({ address: "http://127.0.0.1:1", auth: { token: "not-a-real-token" } });
const queued: unknown[] = [];
const producer = { add: async (...args: unknown[]) => void queued.push(args) };

describe("opening the backends", () => {
  it("refuses, as a configuration error naming every missing setting, before anything connects", () => {
    const missing = { config, aws, vault: undefined, sqlAdminUrls: new Map<string, string>() };
    let refusal: unknown;
    try {
      providersFor(missing);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).problems).toEqual([
      "a target has kind: vault, but no Vault settings were given (VAULT_ADDR)",
      "no admin connection URL for target orders-readonly",
    ]);
    expect(() => rotationSetup(missing, createDatabasePasswords(), producer)).toThrow(
      /no admin connection URL for rotation orders-app-password/,
    );
  });

  it("opens one provider per kind configured, and each rotation's ports", async () => {
    const urls = new Map([
      ["orders-readonly", "postgres://leasehold@127.0.0.1:5432/orders"],
      [rotationUrlKey("orders-app-password"), "postgres://leasehold@127.0.0.1:5432/orders"],
    ]);
    const backends = { config, aws, vault, sqlAdminUrls: urls };
    const providers = providersFor(backends);
    expect(providers.map((p) => p.kind).sort()).toEqual(["aws-role", "sql", "vault"]);
    const passwords = createDatabasePasswords();
    const setup = rotationSetup(backends, passwords, producer);
    expect([...setup.rotations.keys()]).toEqual(["orders-app-password"]);
    await setup.enqueueRun({ rotationId: "orders-app-password", triggerKey: "tick-1", triggeredBy: "t" }, 5);
    expect(queued.at(-1)).toEqual([
      "rotationRun",
      { rotationId: "orders-app-password", triggerKey: "tick-1", triggeredBy: "t" },
      expect.stringMatching(/^orders-app-password-[0-9a-f]{24}$/),
      5,
    ]);
    await Promise.all([...providers.map((p) => p.close?.()), passwords.close()]);
  });

  it("a rotation with an alternateUsername alternates between its two users", async () => {
    const [rotation] = config.rotations;
    if (!rotation) throw new Error("the example has a rotation");
    const alternating = {
      ...config,
      rotations: [{ ...rotation, database: { ...rotation.database, alternateUsername: "orders_app_b" } }],
    };
    const urls = new Map([[rotationUrlKey(rotation.id), "postgres://leasehold@127.0.0.1:5432/orders"]]);
    const passwords = createDatabasePasswords();
    const setup = rotationSetup({ config: alternating, aws, vault, sqlAdminUrls: urls }, passwords, producer);
    // Refused before any connection: the secret names neither of the two users.
    await expect(
      setup.rotations.get(rotation.id)?.credential.next({ username: "orders_app_c", password: "x" }, "t"),
    ).rejects.toThrow(/neither orders_app nor orders_app_b/);
    await passwords.close();
  });
});
