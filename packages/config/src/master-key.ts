import { hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519FromSeed } from "./checkpoint-key.js";
import { ConfigError } from "./config-error.js";

const KEY_BYTES = 32;
const HOW_TO = "generate one with: openssl rand -base64 32";
/** Retired keys kept for reading; more than a handful means old keys are never dropped. */
export const MAX_PREVIOUS_MASTER_KEYS = 16;

/** Keys derived from LEASEHOLD_MASTER_KEY, one per purpose, so that no key is used for two jobs. */
export type MasterKeys = {
  /**
   * The master key's id (16 hex characters), recorded beside what its keys seal or link, so that a
   * value is opened with the key it was written under. One-way: it tells nothing about the key.
   */
  readonly id: string;
  /** AES-256-GCM key for credentials stored while a grant is active. */
  readonly credentials: Buffer;
  /** HMAC-SHA256 key for the audit hash chain. */
  readonly auditChain: Buffer;
  /** HMAC-SHA256 key for each grant row's security-relevant fields (holder, target, state, …). */
  readonly grantRows: Buffer;
  /**
   * Ed25519 private key that signs the audit trail's checkpoints: the HKDF output is its seed
   * (checkpoint-key.ts). LEASEHOLD_CHECKPOINT_KEY replaces it (resolveCheckpointKey).
   */
  readonly auditCheckpoint: KeyObject;
};

/**
 * The current master key's keys and the retired ones' (LEASEHOLD_MASTER_KEYS_PREVIOUS): new values
 * are sealed and linked under `current`; values written under a previous key still open, until the
 * background re-seal has moved them to the current one.
 */
export type MasterKeyring = {
  readonly current: MasterKeys;
  readonly previous: readonly MasterKeys[];
};

/**
 * Parses a master key written as base64 or hex; refuses anything that is not exactly 32 bytes. The
 * error names `variable`, never the value.
 */
export function parseMasterKey(text: string, variable = "LEASEHOLD_MASTER_KEY"): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, "base64")
      : undefined;
  if (bytes?.length !== KEY_BYTES) {
    throw new ConfigError("the environment", [
      `${variable} must be 32 random bytes, base64 or hex; ${HOW_TO}`,
    ]);
  }
  return bytes;
}

/**
 * LEASEHOLD_MASTER_KEYS_PREVIOUS: retired master keys, comma-separated, each as LEASEHOLD_MASTER_KEY
 * is written. Unset or empty: none. A key equal to the current one, or given twice, is refused: it
 * would mean the rotation was set up wrong.
 */
export function parsePreviousMasterKeys(text: string | undefined, current: Buffer): Buffer[] {
  const variable = "LEASEHOLD_MASTER_KEYS_PREVIOUS";
  const parts = (text ?? "").split(",").filter((part) => part.trim() !== "");
  if (parts.length > MAX_PREVIOUS_MASTER_KEYS) {
    throw new ConfigError("the environment", [
      `${variable} holds ${parts.length} keys, at most ${MAX_PREVIOUS_MASTER_KEYS}: drop the keys nothing is sealed under any more`,
    ]);
  }
  const keys = parts.map((part, index) => parseMasterKey(part, `${variable} (key ${index + 1})`));
  keys.forEach((key, index) => {
    if (key.equals(current)) {
      throw new ConfigError("the environment", [
        `${variable} (key ${index + 1}) is LEASEHOLD_MASTER_KEY itself: list only retired keys there`,
      ]);
    }
    if (keys.findIndex((other) => other.equals(key)) !== index) {
      throw new ConfigError("the environment", [`${variable} (key ${index + 1}) is listed twice`]);
    }
  });
  return keys;
}

/**
 * The master key: from LEASEHOLD_MASTER_KEY when set. With the embedded database (no DATABASE_URL)
 * and no key set, a key is generated once and kept beside the database (mode 0600), so local mode
 * works with no setup; a shared PostgreSQL always needs an explicit key.
 */
export function resolveMasterKey(options: {
  masterKey: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
}): Buffer {
  if (options.masterKey !== undefined) return parseMasterKey(options.masterKey);
  if (options.databaseUrl !== undefined) {
    throw new ConfigError("the environment", [
      `LEASEHOLD_MASTER_KEY is required when DATABASE_URL is set; ${HOW_TO}`,
    ]);
  }
  const path = join(options.dataDir, "master.key");
  try {
    return parseMasterKey(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(path, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return key;
}

const deriveKey = (master: Buffer, purpose: string, bytes = KEY_BYTES) =>
  Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `leasehold/${purpose}/v1`, bytes));

/** The master key's id: 8 bytes of HKDF output under a label of its own, in hex. */
export const masterKeyId = (master: Buffer): string => deriveKey(master, "key-id", 8).toString("hex");

/** The keyring of the current master key and the previous ones (each derived with deriveKeys). */
export const deriveKeyring = (current: Buffer, previous: readonly Buffer[]): MasterKeyring => ({
  current: deriveKeys(current),
  previous: previous.map(deriveKeys),
});

/** Derives the per-purpose keys with HKDF-SHA256. */
export function deriveKeys(master: Buffer): MasterKeys {
  const derive = (purpose: string) => deriveKey(master, purpose);
  return {
    id: masterKeyId(master),
    credentials: derive("credentials"),
    auditChain: derive("audit-chain"),
    grantRows: derive("grant-rows"),
    auditCheckpoint: ed25519FromSeed(derive("audit-checkpoint")),
  };
}
