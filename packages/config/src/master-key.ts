import { hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519FromSeed } from "./checkpoint-key.js";
import { ConfigError } from "./config-error.js";

const KEY_BYTES = 32;
const HOW_TO = "generate one with: openssl rand -base64 32";

/** Keys derived from LEASEHOLD_MASTER_KEY, one per purpose, so that no key is used for two jobs. */
export type MasterKeys = {
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

/** Parses a master key written as base64 or hex; refuses anything that is not exactly 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, "base64")
      : undefined;
  if (bytes?.length !== KEY_BYTES) {
    throw new ConfigError("the environment", [
      `LEASEHOLD_MASTER_KEY must be 32 random bytes, base64 or hex; ${HOW_TO}`,
    ]);
  }
  return bytes;
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

/** Derives the per-purpose keys with HKDF-SHA256. */
export function deriveKeys(master: Buffer): MasterKeys {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `leasehold/${purpose}/v1`, KEY_BYTES));
  return {
    credentials: derive("credentials"),
    auditChain: derive("audit-chain"),
    grantRows: derive("grant-rows"),
    auditCheckpoint: ed25519FromSeed(derive("audit-checkpoint")),
  };
}
