import { describe, expect, it } from "vitest";
import { buildAcl, DEFAULT_POLICY, validatePolicyPath } from "./vault-acl.js";
import type { VaultPolicyRule } from "./vault-sandbox-types.js";

const aclWith = (policies: Record<string, readonly VaultPolicyRule[]>, names = Object.keys(policies)) =>
  buildAcl(names, new Map([["default", DEFAULT_POLICY], ...Object.entries(policies)]));

describe("Vault ACL: which rule governs a path", () => {
  it("an exact path beats a glob that would grant more", () => {
    const acl = aclWith({
      app: [
        { path: "secret/data/*", capabilities: ["read", "update"] },
        { path: "secret/data/locked", capabilities: ["read"] },
      ],
    });
    expect(acl.allows("secret/data/open", "update", false)).toBe(true);
    expect(acl.allows("secret/data/locked", "read", false)).toBe(true);
    expect(acl.allows("secret/data/locked", "update", false)).toBe(false);
  });

  it("the longer glob wins over the shorter one (rules do not add up across patterns)", () => {
    const acl = aclWith({
      app: [
        { path: "database/*", capabilities: ["read", "list"] },
        { path: "database/creds/*", capabilities: ["list"] },
      ],
    });
    expect(acl.allows("database/creds/readonly", "read", false)).toBe(false);
    expect(acl.allows("database/roles/readonly", "read", false)).toBe(true);
  });

  it("a + segment matches exactly one segment and loses to a pattern whose wildcard comes later", () => {
    const acl = aclWith({
      app: [
        { path: "secret/data/+/config", capabilities: ["read"] },
        { path: "secret/data/team-a/*", capabilities: ["deny"] },
      ],
    });
    expect(acl.allows("secret/data/team-b/config", "read", false)).toBe(true);
    expect(acl.allows("secret/data/team-b/deeper/config", "read", false)).toBe(false);
    // "+" at index 12 vs "*" at index 19: the later wildcard wins, and it denies.
    expect(acl.allows("secret/data/team-a/config", "read", false)).toBe(false);
  });

  it("rules for the same pattern from two policies are unioned, and deny wins over everything", () => {
    const union = aclWith({
      reader: [{ path: "secret/data/x", capabilities: ["read"] }],
      writer: [{ path: "secret/data/x", capabilities: ["update"] }],
    });
    expect([...union.capabilitiesOf("secret/data/x")].sort()).toEqual(["read", "update"]);
    const denied = aclWith({
      reader: [{ path: "secret/data/x", capabilities: ["read"] }],
      blocker: [{ path: "secret/data/x", capabilities: ["deny"] }],
    });
    expect(denied.allows("secret/data/x", "read", false)).toBe(false);
  });

  it("a root-protected path needs sudo as well as the capability", () => {
    const withoutSudo = aclWith({ ops: [{ path: "sys/leases/revoke-prefix/*", capabilities: ["update"] }] });
    const withSudo = aclWith({
      ops: [{ path: "sys/leases/revoke-prefix/*", capabilities: ["update", "sudo"] }],
    });
    expect(withoutSudo.allows("sys/leases/revoke-prefix/database/", "update", true)).toBe(false);
    expect(withSudo.allows("sys/leases/revoke-prefix/database/", "update", true)).toBe(true);
  });

  it("the default policy allows lease renew and lookup but not revoke", () => {
    const acl = aclWith({}, ["default"]);
    expect(acl.allows("sys/leases/renew", "update", false)).toBe(true);
    expect(acl.allows("sys/leases/lookup", "update", false)).toBe(true);
    expect(acl.allows("auth/token/lookup-self", "read", false)).toBe(true);
    expect(acl.allows("sys/leases/revoke", "update", false)).toBe(false);
    expect(acl.allows("auth/token/create", "update", false)).toBe(false);
  });

  it("the root policy allows everything, sudo included; unknown policy names allow nothing", () => {
    expect(aclWith({}, ["root"]).allows("sys/leases/revoke-prefix/x", "update", true)).toBe(true);
    expect(aclWith({}, ["nonexistent"]).allows("auth/token/lookup-self", "read", false)).toBe(false);
  });

  it("refuses patterns Vault refuses", () => {
    expect(() => validatePolicyPath("secret/*/x")).toThrow(/only allowed at the end/);
    expect(() => validatePolicyPath("secret/a+b")).toThrow(/whole path segment/);
    expect(() => validatePolicyPath("secret/+/x/*")).not.toThrow();
  });
});
