import { UpstreamError } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { parseAdminUrl } from "./sql-admin-pool.js";
import {
  credentialUrl,
  generateSqlPassword,
  renderSqlStatements,
  SAFE_SQL_VALUE,
  sqlExpiration,
  sqlRoleName,
} from "./sql-credentials.js";
import { type SqlTarget, sqlTargetSchema } from "./sql-schemas.js";

const GRANT_ID = "6F1C2B3A-9D8E-4F70-8A1B-2C3D4E5F6A7B";

const target = (sql: Record<string, unknown> = {}): SqlTarget => {
  const parsed = sqlTargetSchema.parse({
    id: "orders-readonly",
    kind: "sql",
    leases: [{ provider: "ci", subject: "app", maxTtl: "1h" }],
    maxDuration: "12h",
    sql: {
      engine: "postgres",
      adminUrlEnv: "ORDERS_DB_ADMIN_URL",
      creationStatements: [
        `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      ],
      ...sql,
    },
  });
  if (parsed.kind !== "sql") throw new Error("expected a sql target");
  return parsed;
};

describe("role names", () => {
  it("are the grant id's first 16 hex digits and the attempt, lower-case, within MySQL's 32 characters", () => {
    expect(sqlRoleName(GRANT_ID, 1)).toBe("lh_6f1c2b3a9d8e4f70_a1");
    const longest = sqlRoleName(GRANT_ID, 9_999_999_999);
    expect(longest.length).toBeLessThanOrEqual(32);
    expect(longest).toMatch(SAFE_SQL_VALUE.name);
  });

  it("are the same for the same grant and attempt, and differ between attempts", () => {
    expect(sqlRoleName(GRANT_ID, 2)).toBe(sqlRoleName(GRANT_ID.toLowerCase(), 2));
    expect(sqlRoleName(GRANT_ID, 2)).not.toBe(sqlRoleName(GRANT_ID, 3));
  });

  it("refuse anything but a UUID and a positive attempt", () => {
    expect(() => sqlRoleName(`x"; DROP ROLE postgres; --`, 1)).toThrow(/UUID/);
    expect(() => sqlRoleName(GRANT_ID, 0)).toThrow();
    expect(() => sqlRoleName(GRANT_ID, 1.5)).toThrow();
  });
});

describe("passwords", () => {
  it("are 32 characters of [A-Za-z0-9], each of the 62 used, never repeating", () => {
    const passwords = Array.from({ length: 300 }, generateSqlPassword);
    for (const p of passwords) expect(p).toMatch(SAFE_SQL_VALUE.password);
    expect(new Set(passwords).size).toBe(passwords.length);
    // 9,600 characters: each of the 62 is expected ~155 times; a biased or short alphabet shows here.
    const counts = new Map<string, number>();
    for (const c of passwords.join("")) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(count).toBeGreaterThan(90);
  });
});

describe("expirations", () => {
  it("are UTC, to the second, with an explicit +00 offset", () => {
    expect(sqlExpiration(new Date("2031-02-03T04:05:06.789Z"))).toBe("2031-02-03 04:05:06+00");
  });
});

describe("rendering statements", () => {
  const values = {
    name: "lh_6f1c2b3a9d8e4f70_a1",
    password: "A".repeat(32),
    expiration: "2031-02-03 04:05:06+00",
  };

  it("fills in the generated values", () => {
    expect(renderSqlStatements(target(), "creationStatements", values)).toEqual([
      `CREATE ROLE "lh_6f1c2b3a9d8e4f70_a1" LOGIN PASSWORD '${"A".repeat(32)}' VALID UNTIL '2031-02-03 04:05:06+00'`,
    ]);
    expect(renderSqlStatements(target(), "revocationStatements", { name: values.name })).toEqual([
      `DROP ROLE IF EXISTS "lh_6f1c2b3a9d8e4f70_a1"`,
    ]);
  });

  it("refuses a value outside its safe alphabet, without printing it", () => {
    for (const bad of [
      { ...values, name: `x" SUPERUSER --` },
      { ...values, password: `${"a".repeat(31)}'` },
      { ...values, expiration: "2031-02-03' OR '1" },
    ]) {
      expect(() => renderSqlStatements(target(), "creationStatements", bad)).toThrow(/safe alphabet/);
    }
    expect(() =>
      renderSqlStatements(target(), "creationStatements", { ...values, password: "x'y" }),
    ).not.toThrow(/x'y/);
  });

  it("refuses a template that skipped the schema and left a placeholder unquoted", () => {
    const unchecked = target();
    const forged = { ...unchecked, sql: { ...unchecked.sql, creationStatements: ["CREATE ROLE {{name}}"] } };
    let error: unknown;
    try {
      renderSqlStatements(forged, "creationStatements", values);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: false, upstreamCode: "INVALID_TEMPLATE" });
  });

  it("a renewal template that needs the password is a configuration error (Leasehold does not keep it)", () => {
    const t = target({ renewStatements: [`ALTER ROLE "{{name}}" PASSWORD '{{password}}'`] });
    expect(() =>
      renderSqlStatements(t, "renewStatements", { name: values.name, expiration: values.expiration }),
    ).toThrow(/renewStatements\[0\].*\{\{password\}\}/);
  });
});

describe("admin URLs and credential URLs", () => {
  it("a credential URL carries the new user, the admin's host, port, database and sslmode, nothing else", () => {
    const location = parseAdminUrl(
      "postgres",
      "postgresql://admin:s%40cret@db.internal:6543/orders?sslmode=require&password=x",
    );
    expect(location).toEqual({ host: "db.internal", port: 6543, database: "orders", sslmode: "require" });
    const url = credentialUrl("postgres", location, "lh_6f1c2b3a9d8e4f70_a1", "P".repeat(32));
    expect(url).toBe(
      `postgresql://lh_6f1c2b3a9d8e4f70_a1:${"P".repeat(32)}@db.internal:6543/orders?sslmode=require`,
    );
  });

  it("keeps IPv6 hosts usable and fills in default ports", () => {
    const location = parseAdminUrl("mysql", "mysql://root@[::1]/");
    expect(location).toMatchObject({ host: "::1", port: 3306, database: "" });
    expect(credentialUrl("mysql", location, "u", "p")).toBe("mysql://u:p@[::1]:3306/");
  });

  it("refuses a bad admin URL without repeating it", () => {
    for (const [engine, url] of [
      ["postgres", "not a url with s3cret"],
      ["mysql", "postgres://admin:s3cret@db/orders"],
      ["postgres", "postgres://admin:s3cret@db"],
    ] as const) {
      expect(() => parseAdminUrl(engine, url)).toThrow(/admin URL/);
      expect(() => parseAdminUrl(engine, url)).not.toThrow(/s3cret/);
    }
  });
});
