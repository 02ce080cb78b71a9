import { describe, expect, it } from "vitest";
import { cliLoginSettingsSchema, isLoopbackHttp } from "./identity-provider.js";

const settings = {
  issuer: "https://idp.example.com",
  clientId: "leasehold-cli",
  scope: "openid email groups",
};
const valid = (overrides: Record<string, unknown>) =>
  cliLoginSettingsSchema.safeParse({ ...settings, ...overrides }).success;

describe("what the API's /auth/cli may say", () => {
  it("takes an https issuer, a printable client id and scopes including openid", () => {
    expect(valid({})).toBe(true);
  });

  it("allows plain http only for an issuer on this machine", () => {
    expect(valid({ issuer: "http://127.0.0.1:4000" })).toBe(true);
    expect(valid({ issuer: "http://localhost:4000/realm" })).toBe(true);
    expect(valid({ issuer: "http://idp.example.com" })).toBe(false);
    expect(valid({ issuer: "http://127.0.0.1.example.com" })).toBe(false);
    expect(valid({ issuer: "ftp://idp.example.com" })).toBe(false);
    expect(valid({ issuer: "https://user:pass@idp.example.com" })).toBe(false);
    expect(isLoopbackHttp(new URL("https://127.0.0.1"))).toBe(false);
  });

  it("refuses scopes without openid, odd client ids and oversized fields", () => {
    expect(valid({ scope: "email profile" })).toBe(false);
    expect(valid({ scope: "openid  email" })).toBe(false);
    expect(valid({ clientId: "cli\u001b[2J" })).toBe(false);
    expect(valid({ clientId: "" })).toBe(false);
    expect(valid({ clientId: "x".repeat(257) })).toBe(false);
    expect(valid({ scope: `openid ${"s".repeat(1100)}` })).toBe(false);
    expect(valid({ issuer: `https://idp.example.com/${"p".repeat(2100)}` })).toBe(false);
  });
});
