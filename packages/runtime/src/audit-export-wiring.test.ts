import { ConfigError, leaseholdConfigSchema } from "@leasehold/config";
import { describe, expect, it } from "vitest";
import { auditSinksFrom } from "./audit-export-wiring.js";

const sinks = leaseholdConfigSchema.parse({
  identityProviders: [{ name: "corp", issuer: "https://id.example.com", audience: "leasehold" }],
  auditSinks: [
    { name: "file", kind: "file", path: "/var/log/leasehold/audit.jsonl" },
    { name: "siem", kind: "webhook", url: "https://siem.example.com/in", hmacKeyEnv: "SIEM_KEY" },
    { name: "syslog", kind: "syslog", host: "logs.example.com", port: 6514, tls: { caEnv: "SYSLOG_CA" } },
  ],
}).auditSinks;
const clock = () => new Date();

describe("opening leasehold.yaml's audit sinks", () => {
  it("builds each sink under its name, with its secrets from the variables it names", () => {
    const built = auditSinksFrom(
      sinks,
      { SIEM_KEY: "k".repeat(32), SYSLOG_CA: "-----BEGIN CERTIFICATE-----" },
      clock,
    );
    expect(built.map((s) => s.name)).toEqual(["file", "siem", "syslog"]);
  });

  it("stops the process with a configuration error naming every unset variable, and no secret", () => {
    const error = (() => {
      try {
        auditSinksFrom(sinks, { SIEM_KEY: "short-secret" }, clock);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = String((error as Error).message) + JSON.stringify(error);
    expect(message).toMatch(/auditSinks "siem": SIEM_KEY must hold at least 32 characters/);
    expect(message).toMatch(/auditSinks "syslog": Set SYSLOG_CA \(named by auditSinks.syslog.tls.caEnv\)/);
    expect(message).not.toContain("short-secret");
  });
});
