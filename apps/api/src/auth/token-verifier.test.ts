import { parseConfig } from "@leasehold/config";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "./token-verifier.js";

/** The verifier remembers tokens it accepted; these show that it never accepts more than before. */
describe("token verifier with remembered tokens", () => {
  let issuer: OidcIssuer;
  let config: ReturnType<typeof parseConfig>;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    config = parseConfig(
      `identityProviders:\n  - name: k8s\n    kind: workload\n    issuer: "${issuer.url}"\n    audience: leasehold\n    clockSkew: 30s\ntargets: []\n`,
      "test.yaml",
    );
  });
  afterAll(() => issuer?.close());

  const start = Math.floor(Date.now() / 1000);
  const verifierAt = (clock: { now: number }) =>
    createTokenVerifier(config.identityProviders, { clock: () => new Date(clock.now * 1000) });

  it("a token accepted once is refused after its expiry and the allowed skew", async () => {
    const clock = { now: start };
    const verifier = verifierAt(clock);
    const token = await issuer.mint({ sub: "app" }, { audience: "leasehold", iat: start, exp: start + 60 });
    expect((await verifier.verify(token)).id).toBe("k8s:app");
    clock.now = start + 59;
    expect((await verifier.verify(token)).id).toBe("k8s:app");
    // Within the skew after exp, full verification still accepts it, as before.
    clock.now = start + 80;
    expect((await verifier.verify(token)).id).toBe("k8s:app");
    clock.now = start + 91;
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it("a token accepted later in time is not accepted for an earlier time before its nbf", async () => {
    const clock = { now: start + 100 };
    const verifier = verifierAt(clock);
    const token = await issuer.mint(
      { sub: "app" },
      { audience: "leasehold", iat: start, nbf: start + 100, exp: start + 600 },
    );
    expect((await verifier.verify(token)).id).toBe("k8s:app");
    clock.now = start;
    await expect(verifier.verify(token)).rejects.toThrow(/not valid yet/);
  });

  it("a forged token for the same subject is refused after a genuine one was accepted", async () => {
    const verifier = verifierAt({ now: start });
    const claims = { sub: "app" };
    const genuine = await issuer.mint(claims, { audience: "leasehold", iat: start, exp: start + 300 });
    const forged = await issuer.mint(claims, {
      audience: "leasehold",
      iat: start,
      exp: start + 300,
      signWithUnknownKey: true,
    });
    expect((await verifier.verify(genuine)).id).toBe("k8s:app");
    await expect(verifier.verify(forged)).rejects.toThrow(/signature|key/);
  });
});
