import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./return-to.js";
import { matchesHash, newSessionSecrets, sessionSecretsFromCookie } from "./session-secrets.js";

describe("returnTo", () => {
  it("keeps a path on this site", () => {
    expect(safeReturnTo(undefined)).toBe("/");
    expect(safeReturnTo("/grants/1?tab=timeline")).toBe("/grants/1?tab=timeline");
  });

  it("refuses other sites, schemes, control characters, arrays and over-long paths", () => {
    for (const value of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
    ]) {
      expect(safeReturnTo(value)).toBeUndefined();
    }
    expect(safeReturnTo("/a\r\nSet-Cookie: x=1")).toBeUndefined();
    expect(safeReturnTo(["/a", "/b"])).toBeUndefined();
    expect(safeReturnTo(`/${"a".repeat(2048)}`)).toBeUndefined();
  });
});

describe("session secrets", () => {
  it("derives the same hashes and CSRF token from the cookie, and refuses a malformed one", () => {
    const fresh = newSessionSecrets();
    const again = sessionSecretsFromCookie(fresh.cookieValue);
    expect(again?.idHash.equals(fresh.idHash)).toBe(true);
    expect(again?.csrfToken).toBe(fresh.csrfToken);
    expect(matchesHash(fresh.csrfToken, fresh.csrfHash)).toBe(true);
    expect(matchesHash(`${fresh.csrfToken}x`, fresh.csrfHash)).toBe(false);
    expect(matchesHash(undefined, fresh.csrfHash)).toBe(false);
    expect(sessionSecretsFromCookie(`${fresh.cookieValue}=`)).toBeUndefined();
    expect(sessionSecretsFromCookie("short")).toBeUndefined();
    // The same 32 bytes spelled with other unused low bits in the last character.
    const last = "AEIMQUYcgkosw048".indexOf(fresh.cookieValue.at(-1) ?? "");
    const respelled = `${fresh.cookieValue.slice(0, -1)}${"BFJNRVZdhlptx159"[last]}`;
    expect(Buffer.from(respelled, "base64url").equals(Buffer.from(fresh.cookieValue, "base64url"))).toBe(
      true,
    );
    expect(sessionSecretsFromCookie(respelled)).toBeUndefined();
    expect(fresh.csrfToken).not.toBe(fresh.cookieValue);
  });
});
