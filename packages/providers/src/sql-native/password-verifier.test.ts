import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  isMysqlNativePasswordHash,
  isScramSha256Verifier,
  mysqlNativePasswordHash,
  SCRAM_ITERATIONS,
  scramSha256Verifier,
} from "./password-verifier.js";

/** contracts/wave2.md §11: password `pencil`, salt bytes `0123456789abcdef`, 4096 iterations. */
const PENCIL =
  "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$nQpbZ77WudtqufPwikHXGRt6g2QJ4zns8bZLw273DRM=:jn2amWP1q1h+jgjy0YTO14S6/F02SV7taipOeB7ef20=";

describe("the SCRAM-SHA-256 verifier", () => {
  it("matches the worked example", async () => {
    expect(await scramSha256Verifier("pencil", { salt: Buffer.from("0123456789abcdef") })).toBe(PENCIL);
    expect(isScramSha256Verifier(PENCIL)).toBe(true);
  });

  it("uses PostgreSQL's defaults: 4096 iterations and a fresh 16-byte salt each time", async () => {
    const [a, b] = await Promise.all([scramSha256Verifier("pencil"), scramSha256Verifier("pencil")]);
    expect(SCRAM_ITERATIONS).toBe(4096);
    for (const verifier of [a, b]) {
      expect(isScramSha256Verifier(verifier ?? "")).toBe(true);
      const salt = (verifier ?? "").split("$")[1]?.split(":");
      expect(salt?.[0]).toBe("4096");
      expect(Buffer.from(salt?.[1] ?? "", "base64")).toHaveLength(16);
    }
    expect(a).not.toBe(b);
  });

  it("refuses what SASLprep might change instead of hashing it unnormalised", async () => {
    for (const password of ["pässword", "a\u00a0b", "tab\there", ""]) {
      await expect(scramSha256Verifier(password)).rejects.toThrow(/printable ASCII/);
      expect(() => mysqlNativePasswordHash(password)).toThrow(/printable ASCII/);
    }
  });

  it("refuses too few iterations and a short salt", async () => {
    await expect(scramSha256Verifier("pencil", { iterations: 4095 })).rejects.toThrow(/iterations/);
    await expect(scramSha256Verifier("pencil", { salt: Buffer.alloc(8) })).rejects.toThrow(/salt/);
  });

  it("accepts only strings PostgreSQL would parse as a verifier", () => {
    const [prefix, salt, keys] = PENCIL.split("$") as [string, string, string];
    const [storedKey, serverKey] = keys.split(":") as [string, string];
    const short = Buffer.alloc(31).toString("base64");
    for (const bad of [
      "pencil",
      `${prefix}$${salt}$${storedKey}`, // no ServerKey
      `SCRAM-SHA-1$${salt}$${keys}`,
      `${prefix}$0:${salt.split(":")[1]}$${keys}`,
      `${prefix}$4096:!!!!$${keys}`,
      `${prefix}$${salt}$${short}:${serverKey}`,
      `${prefix}$${salt}$${storedKey}:${serverKey}A`,
      `${prefix}$${salt}$${storedKey}:${serverKey}'`,
      `${PENCIL}\n`,
    ]) {
      expect(isScramSha256Verifier(bad), bad).toBe(false);
    }
  });
});

describe("the mysql_native_password hash", () => {
  it("matches the worked example: * and hex of SHA1(SHA1(password))", () => {
    expect(mysqlNativePasswordHash("password")).toBe("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
    const inner = createHash("sha1").update("pencil").digest();
    expect(mysqlNativePasswordHash("pencil")).toBe(
      `*${createHash("sha1").update(inner).digest("hex").toUpperCase()}`,
    );
  });

  it("is recognised only in its exact form", () => {
    expect(isMysqlNativePasswordHash("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")).toBe(true);
    for (const bad of [
      "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19",
      "*2470c0c06dee42fd1618bb99005adca2ec9d1e19",
      "*24",
    ]) {
      expect(isMysqlNativePasswordHash(bad)).toBe(false);
    }
  });
});
