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

/** What a token must be besides well signed: issued in the past, not too long-lived, naming one person. */
describe("token verifier limits", () => {
  let issuer: OidcIssuer;
  const configWith = (extra: string) =>
    parseConfig(
      `identityProviders:\n  - name: corp\n    issuer: "${issuer.url}"\n    audience: leasehold\n    clockSkew: 30s\n${extra}` +
        `  - name: k8s\n    kind: workload\n    issuer: "${issuer.url}"\n    audience: workloads\n${extra}targets: []\n`,
      "test.yaml",
    ).identityProviders;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(() => issuer?.close());

  const now = Math.floor(Date.now() / 1000);
  const verifier = (extra = "") =>
    createTokenVerifier(configWith(extra), { clock: () => new Date(now * 1000) });
  const person = (email: string) => ({ sub: "p-1", email, email_verified: true });
  const human = (claims: Record<string, unknown>, times: { iat?: number; exp?: number; omit?: string[] }) =>
    issuer.mint(claims, { audience: "leasehold", ...times });

  it("refuses a token issued in the future beyond the clock skew, and accepts one within it", async () => {
    const v = verifier();
    const late = await human(person("dev@example.com"), { iat: now + 31, exp: now + 600 });
    await expect(v.verify(late)).rejects.toThrow(/issued in the future/);
    const withinSkew = await human(person("dev@example.com"), { iat: now + 30, exp: now + 600 });
    expect((await v.verify(withinSkew)).id).toBe("dev@example.com");
  });

  it("refuses a person's token that lives longer than 24 hours by default", async () => {
    const v = verifier();
    const long = await human(person("dev@example.com"), { iat: now - 60, exp: now - 60 + 86_401 });
    await expect(v.verify(long)).rejects.toThrow(/lifetime of more than 1d/);
    const day = await human(person("dev@example.com"), { iat: now - 60, exp: now - 60 + 86_400 });
    expect((await v.verify(day)).id).toBe("dev@example.com");
  });

  it("applies a provider's own maxTokenLifetime, to people and workloads", async () => {
    const v = verifier("    maxTokenLifetime: 1h\n");
    const twoHours = { iat: now - 60, exp: now - 60 + 7200 };
    await expect(v.verify(await human(person("dev@example.com"), twoHours))).rejects.toThrow(/more than 1h/);
    const workload = await issuer.mint({ sub: "app" }, { audience: "workloads", ...twoHours });
    await expect(v.verify(workload)).rejects.toThrow(/more than 1h/);
    const hour = await human(person("dev@example.com"), { iat: now - 60, exp: now - 60 + 3600 });
    expect((await v.verify(hour)).id).toBe("dev@example.com");
  });

  it("puts no lifetime limit on workload tokens unless the provider sets one", async () => {
    const week = await issuer.mint(
      { sub: "app" },
      { audience: "workloads", iat: now - 60, exp: now + 7 * 86_400 },
    );
    expect((await verifier().verify(week)).id).toBe("k8s:app");
  });

  it("refuses a token without iat, whose lifetime cannot be known", async () => {
    const token = await human(person("dev@example.com"), { exp: now + 600, omit: ["iat"] });
    await expect(verifier().verify(token)).rejects.toThrow(/iat/);
  });

  it("folds the case of an email, so one person is one principal", async () => {
    const token = await human(person("Dev@Example.COM"), {});
    expect((await verifier().verify(token)).id).toBe("dev@example.com");
  });

  it.each([
    ["a Kelvin sign, which lower-cases to k", "\u212Aevin@example.com", /NFKC/],
    ["a fullwidth letter", "\uFF4Bevin@example.com", /NFKC/],
    ["a Cyrillic look-alike", "k\u0435vin@example.com", /not an email of ASCII/],
    ["a zero-width space", "kev\u200Bin@example.com", /not an email of ASCII/],
  ])("refuses an email with %s rather than map it onto another person", async (_name, email, problem) => {
    const token = await human(person(email), {});
    await expect(verifier().verify(token)).rejects.toThrow(problem);
  });
});
