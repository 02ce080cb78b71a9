import { describe, expect, it } from "vitest";
import { rotationConfigSchema } from "./rotation-config.js";

const valid = {
  id: "orders-app",
  secret: { awsSecretsManager: { secretId: "prod/orders/app" } },
  database: { engine: "postgres", adminUrlEnv: "ORDERS_ADMIN_URL", username: "orders_app" },
  schedule: { cron: "0 3 * * *", jitter: "10m" },
};

const problems = (input: unknown) => {
  const result = rotationConfigSchema.safeParse(input);
  return result.success ? "" : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
};

describe("rotations in leasehold.yaml", () => {
  it("parses a schedule with jitter and a default password length", () => {
    expect(rotationConfigSchema.parse(valid)).toMatchObject({
      schedule: { cron: "0 3 * * *", jitterSeconds: 600 },
      password: { length: 32 },
    });
  });

  it("parses alternating users, not cloned unless asked", () => {
    const database = { ...valid.database, alternateUsername: "orders_app_b" };
    expect(rotationConfigSchema.parse({ ...valid, database }).database).toEqual({
      ...database,
      cloneAlternate: false,
    });
    expect(
      rotationConfigSchema.parse({ ...valid, database: { ...database, cloneAlternate: true } }).database,
    ).toMatchObject({ alternateUsername: "orders_app_b", cloneAlternate: true });
  });

  it.each([
    [{ schedule: { cron: "61 * * * *" } }, /schedule.cron: cron is not a valid cron expression/],
    [{ schedule: { cron: "every day" } }, /not a valid cron expression/],
    [{ schedule: { cron: "0 3 * * *", jitter: "2h" } }, /jitter must be at most 1h/],
    [{ database: { ...valid.database, username: "orders-app; drop" } }, /username is a lower-case role name/],
    [
      { database: { ...valid.database, adminUrlEnv: "postgres://admin:pw@db" } },
      /adminUrlEnv is an environment variable name/,
    ],
    [{ secret: { vaultKv: { path: "../../sys" } } }, /path is a KV path/],
    [{ secret: {} }, /secret/],
    [{ password: { length: 8 } }, /password.length/],
    [
      { database: { ...valid.database, alternateUsername: "orders_app" } },
      /database.alternateUsername: alternateUsername must differ from username/,
    ],
    [
      { database: { ...valid.database, alternateUsername: "Orders-B" } },
      /alternateUsername is a lower-case role name/,
    ],
    [
      { database: { ...valid.database, cloneAlternate: true } },
      /database.cloneAlternate: cloneAlternate needs an alternateUsername/,
    ],
  ])("refuses %o", (override, message) => {
    expect(problems({ ...valid, ...override })).toMatch(message);
  });
});
