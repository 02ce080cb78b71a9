import { describe, expect, it } from "vitest";
import { isScramSha256Verifier, mysqlNativePasswordHash } from "./password-verifier.js";
import { mysqlPasswordForm, passwordForTemplates, postgresPasswordForm } from "./sql-stored-password.js";

const PASSWORD = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
const PG_CREATE = [
  `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
  `GRANT SELECT ON orders TO "{{name}}"`,
];
const MYSQL_CREATE = [
  `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
  `GRANT SELECT ON shop.orders TO '{{name}}'@'%'`,
];

describe("what Leasehold sends for a leased role's password", () => {
  it("PostgreSQL: the SCRAM verifier in the PASSWORD clause, templates unchanged", async () => {
    const sent = await passwordForTemplates({ kind: "scram-sha-256", iterations: 4096 }, PG_CREATE, PASSWORD);
    expect(sent.stored).toBe(true);
    expect(sent.templates).toEqual(PG_CREATE);
    expect(isScramSha256Verifier(sent.value)).toBe(true);
    expect(sent.value).not.toContain(PASSWORD);
  });

  it("PostgreSQL: the server's larger scram_iterations is kept", async () => {
    const sent = await passwordForTemplates({ kind: "scram-sha-256", iterations: 8192 }, PG_CREATE, PASSWORD);
    expect(sent.value).toMatch(/^SCRAM-SHA-256\$8192:/);
  });

  it("MariaDB: IDENTIFIED BY becomes IDENTIFIED BY PASSWORD with the native hash", async () => {
    const sent = await passwordForTemplates({ kind: "mysql-native" }, MYSQL_CREATE, PASSWORD);
    expect(sent).toEqual({
      stored: true,
      value: mysqlNativePasswordHash(PASSWORD),
      templates: [`CREATE USER '{{name}}'@'%' IDENTIFIED BY PASSWORD '{{password}}'`, MYSQL_CREATE[1]],
    });
  });

  it("the password itself where the server hashes (MySQL, md5) or a template uses it elsewhere", async () => {
    const plain = (templates: string[]) => ({ stored: false, value: PASSWORD, templates });
    expect(await passwordForTemplates({ kind: "plaintext" }, PG_CREATE, PASSWORD)).toEqual(plain(PG_CREATE));
    const elsewhere = [...PG_CREATE, `SELECT audit_password('{{name}}', '{{password}}')`];
    expect(
      await passwordForTemplates({ kind: "scram-sha-256", iterations: 4096 }, elsewhere, PASSWORD),
    ).toEqual(plain(elsewhere));
    const hashForm = [`CREATE USER '{{name}}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('{{password}}')`];
    expect(await passwordForTemplates({ kind: "mysql-native" }, hashForm, PASSWORD)).toEqual(plain(hashForm));
  });

  it("reads the form from the server's settings", () => {
    expect(postgresPasswordForm("scram-sha-256", null)).toEqual({ kind: "scram-sha-256", iterations: 4096 });
    expect(postgresPasswordForm("scram-sha-256", "10000")).toEqual({
      kind: "scram-sha-256",
      iterations: 10000,
    });
    // Fewer than PostgreSQL's default: the verifier does not get weaker than the server's default.
    expect(postgresPasswordForm("scram-sha-256", "1")).toEqual({ kind: "scram-sha-256", iterations: 4096 });
    expect(postgresPasswordForm("scram-sha-256", "2000000")).toEqual({ kind: "plaintext" });
    expect(postgresPasswordForm("md5", null)).toEqual({ kind: "plaintext" });
    expect(mysqlPasswordForm("10.11.19-MariaDB-0+deb12u1")).toEqual({ kind: "mysql-native" });
    expect(mysqlPasswordForm("8.4.3")).toEqual({ kind: "plaintext" });
  });
});
