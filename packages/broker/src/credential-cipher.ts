import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = 2;
/** Sealed before the holder and target were bound in (grant id only); still opened, never written. */
const LEGACY_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

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
  /** Seals a JSON object (a credential, a rotation's staged value). */
  seal(binding: SealBinding, secret: Readonly<Record<string, unknown>>): Buffer;
  /** The JSON that was sealed, unparsed: the caller checks its shape. Throws when the binding differs. */
  open(binding: SealBinding, sealed: Buffer): unknown;
};

// Each part is length-prefixed, so no choice of ids can make two bindings encode alike.
const aad = (version: number, binding: SealBinding) =>
  Buffer.from(
    version === LEGACY_VERSION
      ? `leasehold/credential/v1/${binding.id}`
      : [`leasehold/credential/v${version}`, binding.id, binding.holder ?? "", binding.target ?? ""]
          .map((part) => `${part.length}:${part}`)
          .join("/"),
  );

/**
 * AES-256-GCM with a random 96-bit nonce per value; the binding is authenticated data.
 * Layout: version | nonce | tag | data.
 */
export function createCredentialCipher(key: Buffer): CredentialCipher {
  if (key.length !== 32) throw new Error("the credential key must be 32 bytes");
  return {
    seal(binding, secret) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(VERSION, binding));
      const data = Buffer.concat([cipher.update(JSON.stringify(secret), "utf8"), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), data]);
    },
    open(binding, sealed) {
      const version = sealed[0];
      if ((version !== VERSION && version !== LEGACY_VERSION) || sealed.length < 1 + IV_BYTES + TAG_BYTES) {
        throw new Error("the stored credential is in an unknown format");
      }
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, iv).setAAD(aad(version, binding)).setAuthTag(tag);
      // Throws when the data, nonce, tag or binding do not match what was sealed.
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString("utf8")) as unknown;
    },
  };
}
