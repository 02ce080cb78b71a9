import { describe, expect, it } from "vitest";
import { parseSession } from "./session.js";

describe("parseSession", () => {
  it("reads the API's session answer", () => {
    expect(
      parseSession({
        principal: { id: "ann@example.com", kind: "human", provider: "corp", groups: ["sre", 3] },
        csrfToken: "c",
        authTime: "2026-01-01T00:00:00.000Z",
        acr: null,
        expiresAt: "2026-01-01T08:00:00.000Z",
      }),
    ).toEqual({
      principal: { id: "ann@example.com", kind: "human", provider: "corp", groups: ["sre"] },
      csrfToken: "c",
      authTime: "2026-01-01T00:00:00.000Z",
      acr: null,
      expiresAt: "2026-01-01T08:00:00.000Z",
    });
  });

  it("refuses anything that is not a session", () => {
    expect(parseSession(null)).toBeNull();
    expect(parseSession({ principal: { id: "a" }, csrfToken: "c" })).toBeNull();
    expect(parseSession({ principal: { id: "a", kind: "human", provider: "p" } })).toBeNull();
  });
});
