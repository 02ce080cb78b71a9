import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type KeyEntry, notInRing } from "@leasehold/db";

/** Names the key it was sealed under: version | id length | id | nonce | tag | data. */
const VERSION = 3;
/** Sealed before keys had ids (no id: opened under each key, the current one first); never written. */
const UNNAMED_VERSION = 2;
/** Sealed before the holder and target were bound in (grant id only); still opened, never written. */
const LEGACY_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_ID_BYTES = 255;

/**
 * What a sealed value is bound to: it opens only for the same binding. A grant's credential is bound
 * to the grant, its holder and its target, so a database writer who moves it to another row, or
 * changes who holds the grant or what it is for, gets a value that no longer opens.
 */
export type SealBinding = {
  readonly id: string;
  readonly holder?: string;
  readonly target?: string;
};

/** The binding of a grant's credential. */
export const grantBinding = (grant: {
  readonly id: string;
  readonly principalId: string;
  readonly targetId: string;
}): SealBinding => ({ id: grant.id, holder: grant.principalId, target: grant.targetId });

/** Seals credentials for storage while a grant is active. */
export type CredentialCipher = {
  /** Seals a JSON object (a credential, a rotation's staged value) under the current key. */
  seal(binding: SealBinding, secret: Readonly<Record<string, unknown>>): Buffer;
  /**
   * The JSON that was sealed, unparsed: the caller checks its shape. Opens values sealed under any key
   * of the ring. Throws when the binding differs, or the key it names is not in the ring.
   */
  open(binding: SealBinding, sealed: Buffer): unknown;
  /**
   * The leading bytes of every value sealed under the current key: what the background re-seal looks
   * for (a value that does not start with them is under a previous key).
   */
  readonly currentPrefix: Buffer;
  /** Whether the ring holds previous keys: without them, nothing sealed can be moved to the current key. */
  readonly hasPreviousKeys: boolean;
};

// Each part is length-prefixed, so no choice of ids can make two bindings encode alike.
const aad = (version: number, binding: SealBinding, keyId: string) =>
  Buffer.from(
    version === LEGACY_VERSION
      ? `leasehold/credential/v1/${binding.id}`
      : [
          `leasehold/credential/v${version}`,
          binding.id,
          binding.holder ?? "",
          binding.target ?? "",
          ...(version === VERSION ? [keyId] : []),
        ]
          .map((part) => `${part.length}:${part}`)
          .join("/"),
  );

const prefixOf = (keyId: string) => {
  const id = Buffer.from(keyId, "utf8");
  if (id.length === 0 || id.length > MAX_ID_BYTES) throw new Error("a key id is 1 to 255 bytes");
  return Buffer.concat([Buffer.from([VERSION, id.length]), id]);
};

/** AES-256-GCM decryption of `body` (nonce | tag | data); throws when anything does not match. */
function decrypt(key: Buffer, additional: Buffer, body: Buffer): unknown {
  if (body.length < IV_BYTES + TAG_BYTES) throw new Error("the stored credential is in an unknown format");
  const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, IV_BYTES))
    .setAAD(additional)
    .setAuthTag(body.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const plain = Buffer.concat([decipher.update(body.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as unknown;
}

/**
 * AES-256-GCM with a random 96-bit nonce per value; the binding and the key's id are authenticated
 * data. Seals under `current`; opens under whichever key of `current` and `previous` the value names.
 */
export function createCredentialCipher(
  current: KeyEntry,
  previous: readonly KeyEntry[] = [],
): CredentialCipher {
  const ring = [current, ...previous];
  if (ring.some((entry) => entry.key.length !== 32)) throw new Error("a credential key must be 32 bytes");
  const currentPrefix = prefixOf(current.id);
  return {
    currentPrefix,
    hasPreviousKeys: previous.length > 0,
    seal(binding, secret) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv).setAAD(aad(VERSION, binding, current.id));
      const data = Buffer.concat([cipher.update(JSON.stringify(secret), "utf8"), cipher.final()]);
      return Buffer.concat([currentPrefix, iv, cipher.getAuthTag(), data]);
    },
    open(binding, sealed) {
      const version = sealed[0];
      if (version === VERSION) {
        const idEnd = 2 + (sealed[1] ?? 0);
        const keyId = sealed.subarray(2, idEnd).toString("utf8");
        const entry = ring.find((candidate) => candidate.id === keyId);
        if (!entry) {
          throw new Error(`the stored credential is under ${notInRing(keyId)}`);
        }
        return decrypt(entry.key, aad(VERSION, binding, keyId), sealed.subarray(idEnd));
      }
      if (version !== UNNAMED_VERSION && version !== LEGACY_VERSION) {
        throw new Error("the stored credential is in an unknown format");
      }
      // No id: each key in turn, the current one first; the last failure is the one reported.
      let failure: unknown;
      for (const entry of ring) {
        try {
          return decrypt(entry.key, aad(version, binding, entry.id), sealed.subarray(1));
        } catch (error) {
          failure = error;
        }
      }
      throw failure;
    },
  };
}
