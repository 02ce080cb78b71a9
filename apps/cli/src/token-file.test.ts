import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "./exit-codes.js";
import {
  deleteTokenFile,
  loginFromToken,
  parseTokenFile,
  readTokenFile,
  refreshDecision,
  type StoredLogin,
  writeTokenFile,
} from "./token-file.js";

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwtWith = (claims: object) => `${part({ alg: "RS256", kid: "k" })}.${part(claims)}.c2lnbmF0dXJl`;
const ID_TOKEN = jwtWith({ iss: "https://idp.example.com", aud: "leasehold-cli", exp: 2_000_000_000 });

const login = (overrides: Partial<StoredLogin> = {}): StoredLogin => ({
  version: 1,
  issuer: "https://idp.example.com",
  clientId: "leasehold-cli",
  idToken: ID_TOKEN,
  refreshToken: "refresh-1",
  expiresAt: "2026-12-06T12:00:00.000Z",
  ...overrides,
});

const unauthenticated = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return (error as CliError).exitCode;
  }
  throw new Error("expected a CliError");
};

describe("the token file", () => {
  it("reads the bare JWT older CLIs wrote", () => {
    expect(parseTokenFile(`${ID_TOKEN}\n`)).toEqual({ format: "bare", idToken: ID_TOKEN });
  });

  it("reads the JSON format and refuses a malformed or incomplete one", () => {
    expect(parseTokenFile(JSON.stringify(login()))).toEqual({ format: "login", login: login() });
    expect(unauthenticated(() => parseTokenFile("{not json"))).toBe(EXIT.unauthenticated);
    expect(unauthenticated(() => parseTokenFile(JSON.stringify({ ...login(), version: 2 })))).toBe(
      EXIT.unauthenticated,
    );
    const { idToken: _, ...withoutIdToken } = login();
    expect(unauthenticated(() => parseTokenFile(JSON.stringify(withoutIdToken)))).toBe(EXIT.unauthenticated);
    expect(unauthenticated(() => parseTokenFile("not a token"))).toBe(EXIT.unauthenticated);
  });

  it("writes mode 0600 in a 0700 folder, and reads back what it wrote without a token in the error", () => {
    const path = join(mkdtempSync(join(tmpdir(), "lh-token-")), "leasehold", "token");
    writeTokenFile(path, login());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(readTokenFile(path)).toEqual({ format: "login", login: login() });
    // A rewrite (a refresh) keeps the mode even when someone loosened it.
    writeFileSync(path, "x", { mode: 0o644 });
    writeTokenFile(path, login({ refreshToken: "refresh-2" }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8")).refreshToken).toBe("refresh-2");
  });

  it("says not logged in when there is no file, and logout deletes it", () => {
    const path = join(mkdtempSync(join(tmpdir(), "lh-token-")), "token");
    expect(() => readTokenFile(path)).toThrow(/you are not logged in/);
    writeTokenFile(path, login());
    expect(deleteTokenFile(path)).toBe(true);
    expect(deleteTokenFile(path)).toBe(false);
  });
});

describe("the refresh decision", () => {
  const expiresAt = new Date("2026-12-06T12:00:00.000Z");
  const at = (msBeforeExpiry: number) => new Date(expiresAt.getTime() - msBeforeExpiry);
  const stored = (overrides: Partial<StoredLogin> = {}) =>
    ({ format: "login", login: login({ expiresAt: expiresAt.toISOString(), ...overrides }) }) as const;

  it("sends a token that is good for more than a minute", () => {
    expect(refreshDecision(stored(), at(61_000))).toBe("send");
  });

  it("refreshes one that expires within a minute or has expired", () => {
    expect(refreshDecision(stored(), at(60_000))).toBe("refresh");
    expect(refreshDecision(stored(), at(1_000))).toBe("refresh");
    expect(refreshDecision(stored(), at(-3_600_000))).toBe("refresh");
  });

  it("sends as it is what cannot be refreshed: no refresh token, or a bare JWT", () => {
    expect(refreshDecision(stored({ refreshToken: undefined }), at(-1_000))).toBe("send");
    expect(refreshDecision({ format: "bare", idToken: ID_TOKEN }, at(-1_000))).toBe("send");
  });
});

describe("a token someone brings (--local, --token-file, --token-stdin)", () => {
  it("is stored with its issuer, client and expiry and no refresh token", () => {
    expect(loginFromToken(ID_TOKEN)).toEqual({
      version: 1,
      issuer: "https://idp.example.com",
      clientId: "leasehold-cli",
      idToken: ID_TOKEN,
      expiresAt: new Date(2_000_000_000 * 1000).toISOString(),
    });
    const withAzp = jwtWith({
      iss: "https://idp.example.com",
      aud: ["a", "b"],
      azp: "b",
      exp: 2_000_000_000,
    });
    expect(loginFromToken(withAzp).clientId).toBe("b");
  });

  it("is refused when it is not a JWT or lacks the claims", () => {
    expect(() => loginFromToken("abc")).toThrow(/not a JWT/);
    expect(() => loginFromToken(jwtWith({ iss: "https://idp.example.com", aud: "x" }))).toThrow(/exp/);
  });
});
