import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import {
  coreEnv,
  databaseEnv,
  parseEnv,
  redisEnv,
  sharedDatabaseEnv,
  slackEnv,
  vaultSettingsFromEnv,
} from "./env.js";
import { deriveKeys, parseMasterKey, resolveMasterKey } from "./master-key.js";

describe("environment", () => {
  it("applies defaults and treats empty values as unset", () => {
    const env = parseEnv({ ...coreEnv, ...redisEnv, ...databaseEnv }, { DATABASE_URL: "", REDIS_URL: "" });
    expect(env).toMatchObject({ LEASEHOLD_CONFIG: "leasehold.yaml", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("takes a queue prefix as a plain name or as one Redis Cluster hash tag, nothing in between", () => {
    const prefix = (value: string) => () => parseEnv(coreEnv, { LEASEHOLD_QUEUE_PREFIX: value });
    expect(prefix("leasehold")().LEASEHOLD_QUEUE_PREFIX).toBe("leasehold");
    expect(prefix("{leasehold}")().LEASEHOLD_QUEUE_PREFIX).toBe("{leasehold}");
    expect(prefix(`{${"a".repeat(38)}}`)().LEASEHOLD_QUEUE_PREFIX).toHaveLength(40);
    // An empty tag hashes the whole key; a tag inside a longer prefix is easy to misread, so only the
    // two forms are taken.
    for (const bad of [
      "{}",
      "lh-{x}",
      "{x}-lh",
      "{a}{b}",
      "{lh",
      "lh}",
      "{Leasehold}",
      `{${"a".repeat(39)}}`,
    ]) {
      expect(prefix(bad), bad).toThrow(/LEASEHOLD_QUEUE_PREFIX: must be .* in braces/);
    }
  });

  it("says which variable is wrong without repeating its value", () => {
    const secret = "mysql://admin:hunter2@db";
    expect(() => parseEnv(databaseEnv, { DATABASE_URL: secret })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ URL/,
    );
    try {
      parseEnv(databaseEnv, { DATABASE_URL: secret });
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
  });
});

describe("the migrating owner's URL", () => {
  it("is optional beside DATABASE_URL, for the worker and the bot too", () => {
    const url = "postgres://leasehold_owner:s3cret@db/leasehold";
    expect(parseEnv(databaseEnv, {}).DATABASE_MIGRATION_URL).toBeUndefined();
    const shared = { DATABASE_URL: "postgres://leasehold_app@db/leasehold", DATABASE_MIGRATION_URL: url };
    expect(parseEnv(sharedDatabaseEnv, shared).DATABASE_MIGRATION_URL).toBe(url);
  });

  it("refuses anything but a PostgreSQL URL, without repeating it", () => {
    const parse = () => parseEnv(databaseEnv, { DATABASE_MIGRATION_URL: "mysql://root:hunter2@db" });
    expect(parse).toThrow(/DATABASE_MIGRATION_URL: must be a postgres:\/\/ URL \(the role that owns/);
    expect(parse).not.toThrow(/hunter2/);
  });
});

describe("the database of a separate process (worker, Slack bot)", () => {
  it("accepts a PostgreSQL URL", () => {
    const url = "postgres://leasehold@db/leasehold";
    expect(parseEnv(sharedDatabaseEnv, { DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  it.each([{}, { DATABASE_URL: "" }])(
    "is required (%o): it never falls back to an embedded database",
    (env) => {
      const parse = () => parseEnv(sharedDatabaseEnv, env);
      expect(parse).toThrow(ConfigError);
      expect(parse).toThrow(
        /DATABASE_URL: required: this process must share the API's PostgreSQL database; the embedded database is only for local mode and a single-process API/,
      );
    },
  );

  it("still says what a valid value is, without repeating it", () => {
    const parse = () => parseEnv(sharedDatabaseEnv, { DATABASE_URL: "mysql://admin:hunter2@db" });
    expect(parse).toThrow(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(parse).not.toThrow(/hunter2/);
  });
});

describe("Slack tokens say the format Slack uses", () => {
  it.each([
    [
      "SLACK_BOT_TOKEN",
      "xoxp-1234567890-user",
      /must be a bot token: xoxb- followed by 10–250 letters, digits and dashes/,
    ],
    [
      "SLACK_APP_TOKEN",
      "xoxb-1234567890-bot",
      /must be an app-level token: xapp- followed by 10–250 letters, digits and dashes/,
    ],
    ["SLACK_SIGNING_SECRET", "NOT-HEX", /must be the app's signing secret: 32–64 lower-case hex characters/],
  ])("%s", (name, value, message) => {
    const parse = () => parseEnv(slackEnv, { [name]: value });
    expect(parse).toThrow(new RegExp(`${name}: ${message.source}`));
    expect(parse).not.toThrow(new RegExp(value));
  });
});

describe("master key", () => {
  const key = Buffer.alloc(32, 7);

  it("accepts 32 bytes as base64 or hex", () => {
    expect(parseMasterKey(key.toString("base64"))).toEqual(key);
    expect(parseMasterKey(key.toString("hex"))).toEqual(key);
  });

  it.each(["", "short", Buffer.alloc(16).toString("base64"), Buffer.alloc(33).toString("hex")])(
    "refuses %j and says how to make one",
    (text) => {
      expect(() => parseMasterKey(text)).toThrow(/32 random bytes[\s\S]*openssl rand -base64 32/);
    },
  );

  it("is required with a shared database", () => {
    expect(() =>
      resolveMasterKey({ masterKey: undefined, databaseUrl: "postgres://db/leasehold", dataDir: "/tmp/x" }),
    ).toThrow(/required when DATABASE_URL is set/);
  });

  it("is generated once, private, for the embedded database", () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "lh-key-")), "data");
    const first = resolveMasterKey({ masterKey: undefined, databaseUrl: undefined, dataDir });
    const second = resolveMasterKey({ masterKey: undefined, databaseUrl: undefined, dataDir });
    expect(second).toEqual(first);
    expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, "master.key"), "utf8").trim()).toBe(first.toString("base64"));
  });

  it("derives distinct keys per purpose", () => {
    const keys = deriveKeys(key);
    expect(keys.credentials).toHaveLength(32);
    expect(keys.credentials.equals(keys.auditChain)).toBe(false);
    expect(keys.grantRows.equals(keys.auditChain) || keys.grantRows.equals(keys.credentials)).toBe(false);
    expect(deriveKeys(key).credentials).toEqual(keys.credentials);
  });
});

describe("Vault settings from the environment", () => {
  const address = { VAULT_ADDR: "https://vault.example.com:8200" };
  const appRole = { ...address, VAULT_ROLE_ID: "role", VAULT_SECRET_ID: "bootstrap" };

  it("is AppRole or a token, read only when something needs Vault", () => {
    expect(vaultSettingsFromEnv(appRole, { needed: false })).toBeUndefined();
    expect(vaultSettingsFromEnv(appRole, { needed: true, appRoleRequired: true })?.auth).toEqual({
      roleId: "role",
      secretId: "bootstrap",
    });
    expect(vaultSettingsFromEnv({ ...address, VAULT_TOKEN: "t" }, { needed: true })?.auth).toEqual({
      token: "t",
    });
  });

  it("refuses a token when leasehold.yaml rotates the AppRole secret id, without repeating it", () => {
    const refuse = () =>
      vaultSettingsFromEnv(
        { ...address, VAULT_TOKEN: "s3cret-token" },
        { needed: true, appRoleRequired: true },
      );
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(/log in with VAULT_ROLE_ID and VAULT_SECRET_ID, not VAULT_TOKEN/);
    expect(refuse).not.toThrow(/s3cret-token/);
  });
});
