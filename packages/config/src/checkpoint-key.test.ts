import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  checkpointKeyId,
  parseCheckpointPublicKey,
  resolveCheckpointKey,
  signCheckpoint,
  verifyCheckpoint,
} from "./checkpoint-key.js";
import { ConfigError } from "./config-error.js";
import { deriveKeys } from "./master-key.js";

const master = Buffer.alloc(32, 7);
const head = { seq: 1234, hash: "cd".repeat(32), at: "2026-12-06T01:30:00.000Z" };

describe("the audit checkpoint key", () => {
  it("is derived from the master key, the same in every process, and differs for another master key", () => {
    const a = resolveCheckpointKey(undefined, deriveKeys(master).auditCheckpoint);
    const b = resolveCheckpointKey(undefined, deriveKeys(Buffer.from(master)).auditCheckpoint);
    const other = resolveCheckpointKey(undefined, deriveKeys(Buffer.alloc(32, 8)).auditCheckpoint);
    expect(a.privateKey.asymmetricKeyType).toBe("ed25519");
    expect(b.publicKeyPem).toBe(a.publicKeyPem);
    expect(other.publicKeyPem).not.toBe(a.publicKeyPem);
    expect(a.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it("names the key by the first 16 hex of SHA-256 over the raw public key", () => {
    const key = resolveCheckpointKey(undefined, deriveKeys(master).auditCheckpoint);
    const spki = createPublicKey(key.publicKeyPem).export({ format: "der", type: "spki" });
    // An Ed25519 SPKI is a 12-byte header and the 32 raw bytes.
    const raw = spki.subarray(spki.length - 32);
    expect(key.keyId).toBe(createHash("sha256").update(raw).digest("hex").slice(0, 16));
    expect(checkpointKeyId(createPublicKey(key.publicKeyPem))).toBe(key.keyId);
  });

  it("signs a checkpoint that verifies with the public key, and fails when any field changes", () => {
    const key = resolveCheckpointKey(undefined, deriveKeys(master).auditCheckpoint);
    const publicKey = parseCheckpointPublicKey(key.publicKeyPem);
    const checkpoint = signCheckpoint(key, head);
    expect(checkpoint).toMatchObject({ ...head, keyId: key.keyId });
    expect(verifyCheckpoint(checkpoint, publicKey)).toEqual({ ok: true });
    const changed = [
      { seq: head.seq - 1 },
      { hash: `${"cd".repeat(31)}ce` },
      { at: "2026-12-06T01:30:00.001Z" },
      { keyId: "0000000000000000" },
      { signature: signCheckpoint(key, { ...head, seq: 1 }).signature },
    ];
    for (const change of changed) {
      const result = verifyCheckpoint({ ...checkpoint, ...change }, publicKey);
      expect(result.ok, JSON.stringify(change)).toBe(false);
    }
    // Another key's public half does not verify it, and says the key differs.
    const stranger = generateKeyPairSync("ed25519").publicKey;
    expect(verifyCheckpoint(checkpoint, stranger)).toEqual({
      ok: false,
      reason: expect.stringMatching(/names key [0-9a-f]{16}, but the public key given is/),
    });
  });

  it("takes LEASEHOLD_CHECKPOINT_KEY instead when set, and refuses one that is not an Ed25519 private key", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const configured = resolveCheckpointKey(pem, deriveKeys(master).auditCheckpoint);
    expect(configured.publicKeyPem).toBe(
      createPublicKey(privateKey).export({ format: "pem", type: "spki" }).toString(),
    );
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    for (const bad of [rsa, "not a key", configured.publicKeyPem]) {
      expect(() => resolveCheckpointKey(bad, deriveKeys(master).auditCheckpoint)).toThrow(ConfigError);
    }
    expect(() => parseCheckpointPublicKey("nope")).toThrow(/not an Ed25519 public key/);
  });
});
