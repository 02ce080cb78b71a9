import { describe, expect, it } from "vitest";
import { parseStoredCredential } from "./issued-credential.js";

const aws = {
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret-access-key",
  sessionToken: "session-token",
  expiration: "2026-12-05T02:00:00.000Z",
};

describe("stored credentials", () => {
  it("read back with their kind", () => {
    expect(parseStoredCredential({ kind: "aws-session", ...aws })).toEqual({ kind: "aws-session", ...aws });
    expect(parseStoredCredential({ kind: "database", username: "u", password: "p" })).toEqual({
      kind: "database",
      username: "u",
      password: "p",
    });
  });

  it("sealed before credentials had a kind are still read, with the kind their fields imply", () => {
    expect(parseStoredCredential(aws)).toEqual({ kind: "aws-session", ...aws });
    const sql = { username: "lh_x", password: "pw", host: "db", port: "5432", database: "orders", url: "u" };
    expect(parseStoredCredential(sql)).toEqual({ kind: "database", ...sql });
  });

  it("in any other shape are refused without repeating a value", () => {
    for (const stored of [
      null,
      "text",
      { kind: "ssh", key: "hunter2" },
      { username: "u" },
      { password: "hunter2" },
    ]) {
      expect(() => parseStoredCredential(stored)).toThrow(/not a credential Leasehold issues/);
      try {
        parseStoredCredential(stored);
      } catch (error) {
        expect((error as Error).message).not.toContain("hunter2");
      }
    }
  });
});
