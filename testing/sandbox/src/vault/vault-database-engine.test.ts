import { describe, expect, it } from "vitest";
import {
  formatExpiration,
  generatePassword,
  generateUsername,
  isMultilinePostgresStatement,
  renderStatement,
  splitStatements,
} from "./vault-database-engine.js";

const NOW = new Date("2026-11-23T12:00:00Z");

describe("Vault database engine: names, passwords and statements as Vault's plugins make them", () => {
  it("PostgreSQL names follow v-<display 8>-<role 8>-<20 random>-<unix time>, at most 63 characters", () => {
    const name = generateUsername("postgres", "token-deploybot", "orders-readonly", NOW);
    expect(name).toMatch(/^v-token-de-orders-r-[A-Za-z0-9]{20}-1795435200$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it("MySQL names follow v-<display 10>-<role 10>-<random>…, cut at 32 characters (the time is cut off)", () => {
    const name = generateUsername("mysql", "approle", "orders-readonly", NOW);
    expect(name).toMatch(/^v-approle-orders-rea-[A-Za-z0-9]{11}$/);
    expect(name).toHaveLength(32);
  });

  it("passwords are 20 characters of [A-Za-z0-9-] with each class present", () => {
    for (let round = 0; round < 50; round += 1) {
      const password = generatePassword();
      expect(password).toMatch(/^[A-Za-z0-9-]{20}$/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toContain("-");
    }
  });

  it("{{expiration}} uses Go's layout 2006-01-02 15:04:05-0700, in UTC", () => {
    expect(formatExpiration(new Date("2026-11-23T12:15:05.900Z"))).toBe("2026-11-23 12:15:05+0000");
  });

  it("templating replaces every {{key}} verbatim; statements split on ';' except PostgreSQL blocks with END", () => {
    expect(
      renderStatement(`CREATE ROLE "{{name}}"; GRANT x TO "{{username}}"`, { name: "a", username: "a" }),
    ).toBe(`CREATE ROLE "a"; GRANT x TO "a"`);
    expect(splitStatements("CREATE USER a; ; GRANT b;")).toEqual(["CREATE USER a", "GRANT b"]);
    expect(isMultilinePostgresStatement("DO $$ BEGIN CREATE ROLE x; END $$;")).toBe(true);
    expect(isMultilinePostgresStatement(`CREATE ROLE "END"; GRANT SELECT ON t TO x;`)).toBe(false);
  });
});
