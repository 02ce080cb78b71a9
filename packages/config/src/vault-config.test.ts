import { describe, expect, it } from "vitest";
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
