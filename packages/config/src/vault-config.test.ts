import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { parseConfig } from "./load-config.js";
import { vaultConfigSchema } from "./vault-config.js";

const problems = (input: unknown) => {
  const result = vaultConfigSchema.safeParse(input);
  return result.success ? "" : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
};

describe("vault in leasehold.yaml", () => {
  it("parses the secret id rotation's schedule and an optional role name", () => {
    expect(
      vaultConfigSchema.parse({ appRole: { rotateSecretId: { schedule: { cron: "0 4 * * *" } } } }),
    ).toEqual({ appRole: { rotateSecretId: { schedule: { cron: "0 4 * * *" } } } });
    expect(vaultConfigSchema.parse({})).toEqual({ appRole: {} });
    expect(vaultConfigSchema.parse({ appRole: { roleName: "leasehold.prod" } }).appRole.roleName).toBe(
      "leasehold.prod",
    );
  });

  it.each([
    [{ appRole: { rotateSecretId: { schedule: { cron: "daily" } } } }, /cron is not a valid cron expression/],
    [{ appRole: { rotateSecretId: { every: "24h" } } }, /every/],
    [{ appRole: { roleName: "../sys" } }, /roleName is an AppRole role name/],
    [{ appRole: { roleName: ".." } }, /not dots alone/],
    [{ appRole: { roleName: "x".repeat(129) } }, /roleName/],
  ])("refuses %o", (input, message) => {
    expect(problems(input)).toMatch(message);
  });
});

describe("the secret id rotation's id in leasehold.yaml", () => {
  const withRotation = (id: string) => `
identityProviders:
  - name: corp
    issuer: https://login.example.com
    audience: leasehold
rotations:
  - id: ${id}
    secret: { vaultKv: { path: orders/app } }
    database: { engine: postgres, adminUrlEnv: ORDERS_ADMIN_URL, username: orders_app }
    schedule: { cron: "0 3 * * *" }
`;

  it("is reserved: a configured rotation may not take it (their audit events would mix)", () => {
    expect(parseConfig(withRotation("orders-app"), "leasehold.yaml").rotations).toHaveLength(1);
    expect(() => parseConfig(withRotation("vault-approle-secret-id"), "leasehold.yaml")).toThrow(ConfigError);
    expect(() => parseConfig(withRotation("vault-approle-secret-id"), "leasehold.yaml")).toThrow(
      /this id is reserved/,
    );
  });
});
