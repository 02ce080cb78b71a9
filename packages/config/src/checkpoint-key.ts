import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { type AuditCheckpoint, checkpointMessage } from "@leasehold/domain";
import { ConfigError } from "./config-error.js";

/**
 * The Ed25519 key that signs the audit trail's checkpoints (audit-checkpoint.ts in the domain).
 *
 * By default it is derived from the master key: HKDF-SHA256 (info `leasehold/audit-checkpoint/v1`)
 * gives a 32-byte seed, and an Ed25519 private key is exactly its seed (RFC 8032), so the seed is
 * wrapped in the fixed PKCS#8 header for Ed25519 (RFC 8410) and handed to `createPrivateKey`. Every
 * replica thus signs with the same key and no new secret needs distributing. An installation that
 * keeps the signing key apart (an HSM-exported key, a key auditors were given the public half of in
 * advance) sets LEASEHOLD_CHECKPOINT_KEY to a PKCS#8 PEM Ed25519 private key instead.
 */

/** RFC 8410's PKCS#8 prefix for an Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SEED_BYTES = 32;

export type CheckpointKey = {
  readonly privateKey: KeyObject;
  /** The public key as SPKI PEM: what auditors are given. */
  readonly publicKeyPem: string;
  readonly keyId: string;
};

/** The Ed25519 private key whose seed is `seed` (32 bytes). */
export function ed25519FromSeed(seed: Buffer): KeyObject {
  if (seed.length !== SEED_BYTES) throw new Error("an Ed25519 seed is 32 bytes");
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** First 16 hex characters of SHA-256 over the raw 32-byte public key (the JWK's `x`). */
export function checkpointKeyId(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/** The checkpoint key around a private key. */
export function checkpointKeyOf(privateKey: KeyObject): CheckpointKey {
  const publicKeyPem = createPublicKey(privateKey).export({ format: "pem", type: "spki" }).toString();
  return { privateKey, publicKeyPem, keyId: checkpointKeyId(privateKey) };
}

/**
 * LEASEHOLD_CHECKPOINT_KEY when set (a PEM Ed25519 private key), else `derived` (from the master
 * key, see deriveKeys). A set value that is not an Ed25519 private key stops the process.
 */
export function resolveCheckpointKey(pem: string | undefined, derived: KeyObject): CheckpointKey {
  if (pem === undefined) return checkpointKeyOf(derived);
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== "ed25519") {
    throw new ConfigError("the environment", [
      "LEASEHOLD_CHECKPOINT_KEY must be an Ed25519 private key in PEM (PKCS#8); generate one with: openssl genpkey -algorithm ed25519",
    ]);
  }
  return checkpointKeyOf(key);
}

/** Signs the head at `at`: the `data` of an `audit.checkpoint` event. */
export function signCheckpoint(
  key: CheckpointKey,
  head: { readonly seq: number; readonly hash: string; readonly at: string },
): AuditCheckpoint {
  const signature = sign(null, Buffer.from(checkpointMessage(head)), key.privateKey).toString("base64");
  return { seq: head.seq, hash: head.hash, at: head.at, keyId: key.keyId, signature };
}

/** An Ed25519 public key from PEM (SPKI); a private key's PEM gives its public half. */
export function parseCheckpointPublicKey(pem: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== "ed25519") {
    throw new Error(
      "the public key is not an Ed25519 public key in PEM (as `leasehold audit public-key` prints it)",
    );
  }
  return key;
}

export type CheckpointCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Whether `checkpoint` was signed by the private half of `publicKey`, over exactly its fields. */
export function verifyCheckpoint(checkpoint: AuditCheckpoint, publicKey: KeyObject): CheckpointCheck {
  const keyId = checkpointKeyId(publicKey);
  if (checkpoint.keyId !== keyId) {
    return {
      ok: false,
      reason: `the checkpoint names key ${checkpoint.keyId}, but the public key given is ${keyId}`,
    };
  }
  const signed = verify(
    null,
    Buffer.from(checkpointMessage(checkpoint)),
    publicKey,
    Buffer.from(checkpoint.signature, "base64"),
  );
  return signed
    ? { ok: true }
    : { ok: false, reason: "the signature does not match the checkpoint's seq, hash and time" };
}
