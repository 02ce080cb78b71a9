import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals credentials for storage while a grant is active. */
export type CredentialCipher = {
  /** Seals a JSON object (a credential, a rotation's staged value). */
  seal(grantId: string, secret: Readonly<Record<string, unknown>>): Buffer;
  /** The JSON that was sealed, unparsed: the caller checks its shape. */
  open(grantId: string, sealed: Buffer): unknown;
};

/**
 * AES-256-GCM with a random 96-bit nonce per credential. The grant id is authenticated data, so a
 * sealed credential copied onto another grant's row does not open. Layout: version | nonce | tag | data.
 */
export function createCredentialCipher(key: Buffer): CredentialCipher {
  if (key.length !== 32) throw new Error("the credential key must be 32 bytes");
  const aad = (grantId: string) => Buffer.from(`leasehold/credential/v${VERSION}/${grantId}`);
  return {
    seal(grantId, secret) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(grantId));
      const data = Buffer.concat([cipher.update(JSON.stringify(secret), "utf8"), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), data]);
    },
    open(grantId, sealed) {
      if (sealed[0] !== VERSION || sealed.length < 1 + IV_BYTES + TAG_BYTES) {
        throw new Error("the stored credential is in an unknown format");
      }
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, iv).setAAD(aad(grantId)).setAuthTag(tag);
      // Throws when the data, nonce, tag or grant id do not match what was sealed.
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString("utf8")) as unknown;
    },
  };
}
