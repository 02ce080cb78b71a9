import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { deriveKeyring, masterKeyId, parsePreviousMasterKeys } from "./master-key.js";

const current = randomBytes(32);
const retired = randomBytes(32);

/** The message of the ConfigError `parse` throws. */
const problemOf = (parse: () => unknown): string => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
};

describe("the master keyring", () => {
  it("gives each master key a short id that is neither the key nor any of its derived keys", () => {
    const ring = deriveKeyring(current, [retired]);
    expect(ring.current.id).toMatch(/^[0-9a-f]{16}$/);
    expect(ring.current.id).toBe(masterKeyId(current));
    expect(ring.previous.map((k) => k.id)).toEqual([masterKeyId(retired)]);
    expect(ring.current.id).not.toBe(ring.previous[0]?.id);
    for (const secret of [
      current,
      ring.current.credentials,
      ring.current.auditChain,
      ring.current.grantRows,
    ]) {
      expect(secret.toString("hex")).not.toContain(ring.current.id);
    }
    // The same key gives the same id in every process.
    expect(deriveKeyring(current, []).current.id).toBe(ring.current.id);
  });

  it("reads LEASEHOLD_MASTER_KEYS_PREVIOUS as comma-separated base64 or hex keys; unset or empty is none", () => {
    expect(parsePreviousMasterKeys(undefined, current)).toEqual([]);
    expect(parsePreviousMasterKeys("", current)).toEqual([]);
    const other = randomBytes(32);
    expect(
      parsePreviousMasterKeys(` ${retired.toString("base64")} ,${other.toString("hex")}`, current),
    ).toEqual([retired, other]);
  });

  it("refuses a malformed key, naming the variable and the key's place but never the value", () => {
    const bad = "not-a-key-but-a-secret-looking-value";
    const message = problemOf(() => parsePreviousMasterKeys(`${retired.toString("base64")},${bad}`, current));
    expect(message).toContain("LEASEHOLD_MASTER_KEYS_PREVIOUS (key 2)");
    expect(message).not.toContain(bad);
    expect(message).not.toContain(retired.toString("base64"));
  });

  it("refuses the current key among the previous ones, a key listed twice, and too many keys", () => {
    const hex = current.toString("hex");
    const same = problemOf(() => parsePreviousMasterKeys(`${retired.toString("hex")},${hex}`, current));
    expect(same).toContain("(key 2) is LEASEHOLD_MASTER_KEY itself");
    expect(same).not.toContain(hex);
    expect(
      problemOf(() =>
        parsePreviousMasterKeys(`${retired.toString("base64")},${retired.toString("hex")}`, current),
      ),
    ).toContain("(key 2) is listed twice");
    const many = Array.from({ length: 17 }, () => randomBytes(32).toString("base64")).join(",");
    expect(problemOf(() => parsePreviousMasterKeys(many, current))).toContain("holds 17 keys, at most 16");
  });
});
