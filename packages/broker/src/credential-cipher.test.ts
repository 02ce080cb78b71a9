import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCredentialCipher, grantBinding } from "./credential-cipher.js";

const key = Buffer.alloc(32, 9);
const cipher = createCredentialCipher(key);
const grant = {
  id: "3f0c2c1e-0000-4000-8000-000000000001",
  principalId: "dev@example.com",
  targetId: "prod",
};

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
    expect(cipher.seal(grantBinding(grant), {})[0]).toBe(2);
  });
});
