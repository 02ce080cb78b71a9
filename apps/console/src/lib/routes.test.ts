import { describe, expect, it } from "vitest";
import { isLocalPath, loginUrl, matchRoute } from "./routes.js";

const id = "0b3c6f0e-8d8a-4c1e-9a55-2f1f3b9d7e11";

describe("matchRoute", () => {
  it("matches the fixed pages, with or without a trailing slash", () => {
    expect(matchRoute("/")).toEqual({ name: "my-access" });
    expect(matchRoute("/request/")).toEqual({ name: "request" });
    expect(matchRoute("/audit")).toEqual({ name: "audit" });
    expect(matchRoute("/admin")).toEqual({ name: "admin" });
    expect(matchRoute("/slack")).toEqual({ name: "slack" });
  });

  it("reads the request to highlight on /approvals, and ignores one that is not an id", () => {
    expect(matchRoute("/approvals", `?request=${id}`)).toEqual({ name: "approvals", requestId: id });
    expect(matchRoute("/approvals", "?request=../etc")).toEqual({ name: "approvals", requestId: null });
    expect(matchRoute("/approvals")).toEqual({ name: "approvals", requestId: null });
  });

  it("matches a grant by its id only", () => {
    expect(matchRoute(`/grants/${id}`)).toEqual({ name: "grant", grantId: id });
    expect(matchRoute("/grants/not-an-id")).toEqual({ name: "not-found", path: "/grants/not-an-id" });
    expect(matchRoute(`/grants/${id}/more`).name).toBe("not-found");
  });

  it("answers not-found for anything else", () => {
    expect(matchRoute("/nowhere")).toEqual({ name: "not-found", path: "/nowhere" });
  });
});

describe("loginUrl", () => {
  it("sends the person back to where they were", () => {
    expect(loginUrl("/approvals?request=1")).toBe("/auth/login?returnTo=%2Fapprovals%3Frequest%3D1");
  });

  it("asks for a fresh sign-in for a step-up target", () => {
    expect(loginUrl(`/approvals?request=${id}`, "prod-db")).toBe(
      `/auth/login?stepUp=prod-db&returnTo=%2Fapprovals%3Frequest%3D${id}`,
    );
  });

  it("never returns to another origin", () => {
    expect(loginUrl("//evil.example/")).toBe("/auth/login?returnTo=%2F");
    expect(loginUrl("https://evil.example/")).toBe("/auth/login?returnTo=%2F");
    expect(isLocalPath("/\\evil.example")).toBe(false);
    expect(isLocalPath("/grants")).toBe(true);
  });
});
