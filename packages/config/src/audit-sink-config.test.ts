import { describe, expect, it } from "vitest";
import { leaseholdConfigSchema } from "./leasehold-config.js";

const base = {
  identityProviders: [{ name: "corp", issuer: "https://id.example.com", audience: "leasehold" }],
};
const file = { name: "local", kind: "file", path: "/var/log/leasehold/audit.jsonl" };
const webhook = { name: "siem", kind: "webhook", url: "https://siem.example.com/in", hmacKeyEnv: "SIEM_KEY" };
const syslog = { name: "syslog", kind: "syslog", host: "logs.example.com", port: 6514, tls: {} };

const problems = (auditSinks: unknown) => {
  const result = leaseholdConfigSchema.safeParse({ ...base, auditSinks });
  return result.success ? "" : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
};

describe("auditSinks in leasehold.yaml", () => {
  it("parses each kind with its defaults, and none by default", () => {
    const config = leaseholdConfigSchema.parse({ ...base, auditSinks: [file, webhook, syslog] });
    expect(config.auditSinks).toMatchObject([
      { kind: "file", format: "json", rotate: { maxBytes: 100 * 1024 * 1024 } },
      { kind: "webhook", format: "json", batchSize: 100, attempts: 4 },
      { kind: "syslog", facility: 13, severity: 6, sdId: "leasehold@32473" },
    ]);
    expect(leaseholdConfigSchema.parse(base).auditSinks).toEqual([]);
  });

  it.each([
    [[file, { ...webhook, name: "local" }], /auditSinks.1: sink name "local" appears twice/],
    [[file, { ...file, name: "other" }], /auditSinks.1.path: another file sink writes here/],
    [
      Array.from({ length: 11 }, (_, i) => ({ ...file, name: `f${i}`, path: `/l/${i}` })),
      /at most 10 audit sinks/,
    ],
    [[{ ...file, kind: "ftp" }], /auditSinks.0.kind/],
    [[{ ...webhook, hmacKey: "inline-secret" }], /hmacKey/],
    [[{ ...syslog, tls: { certEnv: "CERT" } }], /set both certEnv and keyEnv/],
  ])("refuses %#", (sinks, message) => {
    expect(problems(sinks)).toMatch(message);
  });
});
