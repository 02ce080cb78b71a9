import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import {
  MAX_SCOPES_PER_REQUEST,
  MAX_SCOPES_PER_TARGET,
  requestedScopesSchema,
  resolveRequestedScopes,
  scopesByName,
} from "./request-scope.js";
import { requestAccessInput } from "./schemas.js";
import { sessionTargetSchema } from "./test-target-kinds.js";

const base = {
  id: "prod",
  kind: "session",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  maxDuration: "1h",
  session: { role: "ops" },
};

const target = sessionTargetSchema.parse({
  ...base,
  scopes: [
    { name: "read-only", description: "Look, do not touch" },
    { name: "read-write", description: "Change things" },
  ],
  defaultScopes: ["read-only"],
});

const problems = (input: unknown) => {
  const result = sessionTargetSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("a target's scopes in leasehold.yaml", () => {
  it("are optional: a target without them offers none and defaults to none", () => {
    const plain = sessionTargetSchema.parse(base);
    expect([plain.scopes, plain.defaultScopes]).toEqual([[], []]);
  });

  it("keep their names and descriptions", () => {
    expect(target.scopes.map((s) => [s.name, s.description])).toEqual([
      ["read-only", "Look, do not touch"],
      ["read-write", "Change things"],
    ]);
  });

  it.each([
    [
      "a name declared twice",
      { scopes: [{ name: "a" }, { name: "a" }] },
      /scopes.1.name: scope a is declared twice/,
    ],
    [
      "a default that is not offered",
      { scopes: [{ name: "a" }], defaultScopes: ["b"] },
      /defaultScopes.0: default scope b/,
    ],
    [
      "a name that is not a slug",
      { scopes: [{ name: "Read Only" }] },
      /scopes.0.name: a scope name is lower-case/,
    ],
    ["an unknown field in a scope", { scopes: [{ name: "a", policy: "x" }] }, /scopes.0/],
    [
      "more scopes than a target may offer",
      { scopes: Array.from({ length: MAX_SCOPES_PER_TARGET + 1 }, (_, i) => ({ name: `s${i}` })) },
      /at most 50 scopes/,
    ],
  ])("refuse %s", (_name, scopes, message) => {
    expect(problems({ ...base, ...scopes }).join("\n")).toMatch(message);
  });
});

describe("the scopes a request names", () => {
  it("are the target's defaults when it names none", () => {
    expect(resolveRequestedScopes(target, undefined)).toEqual(["read-only"]);
    expect(resolveRequestedScopes(target, [])).toEqual(["read-only"]);
  });

  it("are exactly those named, in order, when all are offered", () => {
    expect(resolveRequestedScopes(target, ["read-write", "read-only"])).toEqual(["read-write", "read-only"]);
  });

  it("refuse a name the target does not offer, saying which it offers", () => {
    expect(() => resolveRequestedScopes(target, ["admin"])).toThrow(
      new InvalidRequestError("prod has no scope called admin; it offers read-only, read-write"),
    );
    const bare = sessionTargetSchema.parse(base);
    expect(() => resolveRequestedScopes(bare, ["read-only"])).toThrow(/it offers none/);
  });

  it("refuse a name named twice", () => {
    expect(() => resolveRequestedScopes(target, ["read-only", "read-only"])).toThrow(InvalidRequestError);
  });

  it("are bounded and unique at the edge", () => {
    const parse = (scopes: unknown) =>
      requestAccessInput.safeParse({ targetId: "prod", reason: "testing", scopes }).success;
    expect(parse(["read-only"])).toBe(true);
    expect(parse(["read-only", "read-only"])).toBe(false);
    expect(parse(Array.from({ length: MAX_SCOPES_PER_REQUEST + 1 }, (_, i) => `s${i}`))).toBe(false);
    expect(parse(["x".repeat(64)])).toBe(false);
    expect(parse(["<!channel>"])).toBe(false);
    expect(requestedScopesSchema.safeParse(["a", "b"]).success).toBe(true);
  });

  it("are found by name for the issuer, and a withdrawn one is reported missing", () => {
    const { found, missing } = scopesByName(target.scopes, ["read-write", "gone"]);
    expect(found.map((s) => s.name)).toEqual(["read-write"]);
    expect(missing).toEqual(["gone"]);
  });
});
