import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCredentialCipher, grantBinding } from "./credential-cipher.js";

const key = Buffer.alloc(32, 9);
const cipher = createCredentialCipher({ id: "k1", key });
const grant = {
  id: "3f0c2c1e-0000-4000-8000-000000000001",
  principalId: "dev@example.com",
  targetId: "prod",
};

/** A value as the second version sealed it: bound to the grant, holder and target, naming no key. */
function sealedByVersion2(sealKey: Buffer, secret: object): Buffer {
  const iv = randomBytes(12);
  const parts = ["leasehold/credential/v2", grant.id, grant.principalId, grant.targetId];
  const c = createCipheriv("aes-256-gcm", sealKey, iv).setAAD(
    Buffer.from(parts.map((part) => `${part.length}:${part}`).join("/")),
  );
  const data = Buffer.concat([c.update(JSON.stringify(secret), "utf8"), c.final()]);
  return Buffer.concat([Buffer.from([2]), iv, c.getAuthTag(), data]);
}

/** A value as the first version sealed it: bound to the grant id alone. */
function sealedByVersion1(grantId: string, secret: object): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(`leasehold/credential/v1/${grantId}`));
  const data = Buffer.concat([c.update(JSON.stringify(secret), "utf8"), c.final()]);
  return Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), data]);
}

describe("the credential cipher", () => {
  it("opens a value only for the grant, holder and target it was sealed for", () => {
    const sealed = cipher.seal(grantBinding(grant), { password: "p" });
    expect(cipher.open(grantBinding(grant), sealed)).toEqual({ password: "p" });
    for (const other of [
      { ...grant, id: "3f0c2c1e-0000-4000-8000-000000000002" },
      { ...grant, principalId: "mallory@example.com" },
      { ...grant, targetId: "prod-admin" },
    ]) {
      expect(() => cipher.open(grantBinding(other), sealed)).toThrow();
    }
    // The parts cannot be shifted into one another.
    expect(() =>
      cipher.open({ id: grant.id, holder: `${grant.principalId}/4:prod`, target: "" }, sealed),
    ).toThrow();
  });

  it("still opens what the first version sealed, for the same grant only", () => {
    const legacy = sealedByVersion1(grant.id, { accessKeyId: "ASIAOLD" });
    expect(cipher.open(grantBinding(grant), legacy)).toEqual({ accessKeyId: "ASIAOLD" });
    expect(() => cipher.open({ id: "another" }, legacy)).toThrow();
    expect(cipher.seal(grantBinding(grant), {})[0]).toBe(3);
  });
});

describe("the credential cipher across master keys", () => {
  const oldKey = Buffer.alloc(32, 7);
  const before = createCredentialCipher({ id: "old", key: oldKey });
  const after = createCredentialCipher({ id: "new", key }, [{ id: "old", key: oldKey }]);

  it("seals under the current key, and marks what is sealed under it", () => {
    const sealed = after.seal(grantBinding(grant), { password: "p" });
    expect(sealed.subarray(0, after.currentPrefix.length)).toEqual(after.currentPrefix);
    const underOld = before.seal(grantBinding(grant), { password: "p" });
    expect(underOld.subarray(0, after.currentPrefix.length)).not.toEqual(after.currentPrefix);
    // The old cipher does not hold the new key: it names the key it lacks, and nothing else.
    expect(() => before.open(grantBinding(grant), sealed)).toThrow(
      /under key new, which is not in the keyring/,
    );
  });

  it("opens what a previous key sealed, by the key id the value names", () => {
    const underOld = before.seal(grantBinding(grant), { password: "old" });
    expect(after.open(grantBinding(grant), underOld)).toEqual({ password: "old" });
    expect(() => after.open({ id: "another" }, underOld)).toThrow();
  });

  it("a value cannot be relabelled to another key of the ring", () => {
    const underOld = before.seal(grantBinding(grant), { password: "old" });
    // Same length ids, so only the label changes.
    const relabelled = Buffer.concat([Buffer.from([3, 3]), Buffer.from("new"), underOld.subarray(5)]);
    expect(() => after.open(grantBinding(grant), relabelled)).toThrow();
  });

  it("opens values sealed before keys had ids under any key of the ring, the current one first", () => {
    expect(after.open(grantBinding(grant), sealedByVersion2(oldKey, { v: "old" }))).toEqual({ v: "old" });
    expect(after.open(grantBinding(grant), sealedByVersion2(key, { v: "new" }))).toEqual({ v: "new" });
    expect(() => before.open(grantBinding(grant), sealedByVersion2(Buffer.alloc(32, 1), {}))).toThrow();
  });
});
