import type { VaultCapability, VaultPolicyRule } from "./vault-sandbox-types.js";

/**
 * Vault's ACL evaluation for the stand-in (pure). Rules of all of a token's policies are merged per
 * pattern (capabilities unioned; `deny` wins). A request path is governed by ONE rule: an exact pattern
 * if there is one, else the highest-priority matching wildcard pattern by Vault's documented order —
 * a later first wildcard, no trailing `*`, fewer `+` segments, a longer pattern, then the lexically
 * larger one wins. So a narrower rule with fewer capabilities overrides a broader glob, as in Vault.
 */

/** Vault's built-in "default" policy, attached to every token unless told otherwise (as shipped). */
export const DEFAULT_POLICY: readonly VaultPolicyRule[] = [
  { path: "auth/token/lookup-self", capabilities: ["read"] },
  { path: "auth/token/renew-self", capabilities: ["update"] },
  { path: "auth/token/revoke-self", capabilities: ["update"] },
  { path: "sys/capabilities-self", capabilities: ["update"] },
  { path: "sys/internal/ui/resultant-acl", capabilities: ["read"] },
  { path: "sys/renew", capabilities: ["update"] },
  { path: "sys/leases/renew", capabilities: ["update"] },
  { path: "sys/leases/lookup", capabilities: ["update"] },
  { path: "cubbyhole/*", capabilities: ["create", "read", "update", "delete", "list"] },
  { path: "sys/wrapping/wrap", capabilities: ["update"] },
  { path: "sys/wrapping/lookup", capabilities: ["update"] },
  { path: "sys/wrapping/unwrap", capabilities: ["update"] },
  { path: "sys/tools/hash", capabilities: ["update"] },
  { path: "sys/tools/hash/*", capabilities: ["update"] },
  { path: "sys/control-group/request", capabilities: ["update"] },
  { path: "sys/mfa/challenge", capabilities: ["update"] },
];

type CompiledRule = {
  pattern: string;
  capabilities: Set<VaultCapability>;
  wildcard: boolean;
  /** Index of the first `+` or `*`; Infinity for an exact pattern. */
  firstWildcard: number;
  endsWithGlob: boolean;
  plusSegments: number;
  regex: RegExp;
};

/** Throws when a pattern is not one Vault accepts (a `*` not at the end, a `+` inside a segment). */
export function validatePolicyPath(pattern: string): void {
  const star = pattern.indexOf("*");
  if (star !== -1 && star !== pattern.length - 1) {
    throw new Error(`Policy path "${pattern}": "*" is only allowed at the end`);
  }
  for (const segment of pattern.replace(/\*$/, "").split("/")) {
    if (segment.includes("+") && segment !== "+") {
      throw new Error(`Policy path "${pattern}": "+" must be a whole path segment`);
    }
  }
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function compile(pattern: string, capabilities: Iterable<VaultCapability>): CompiledRule {
  validatePolicyPath(pattern);
  const endsWithGlob = pattern.endsWith("*");
  const body = endsWithGlob ? pattern.slice(0, -1) : pattern;
  const segments = body.split("/");
  const source = segments.map((segment) => (segment === "+" ? "[^/]+" : escapeRegex(segment))).join("/");
  const wildcards = [pattern.indexOf("+"), pattern.indexOf("*")].filter((index) => index !== -1);
  return {
    pattern,
    capabilities: new Set(capabilities),
    wildcard: wildcards.length > 0,
    firstWildcard: wildcards.length > 0 ? Math.min(...wildcards) : Number.POSITIVE_INFINITY,
    endsWithGlob,
    plusSegments: segments.filter((segment) => segment === "+").length,
    regex: new RegExp(`^${source}${endsWithGlob ? "[\\s\\S]*" : ""}$`),
  };
}

/** Whether `a` loses to `b` by Vault's priority order for wildcard patterns. */
function lowerPriority(a: CompiledRule, b: CompiledRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.endsWithGlob !== b.endsWithGlob) return a.endsWithGlob;
  if (a.plusSegments !== b.plusSegments) return a.plusSegments > b.plusSegments;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length < b.pattern.length;
  return a.pattern < b.pattern;
}

export type VaultAcl = {
  /** The token has the root policy: everything is allowed. */
  root: boolean;
  /** The capabilities of the one rule that governs `path` (empty when none does, or when it denies). */
  capabilitiesOf(path: string): ReadonlySet<VaultCapability>;
  /** Whether `capability` is granted on `path`, and `sudo` too when the path is root-protected. */
  allows(path: string, capability: VaultCapability, sudoRequired: boolean): boolean;
};

/**
 * The ACL of a token with these policy names. Unknown policy names grant nothing (Vault warns about them
 * at token creation and otherwise ignores them).
 */
export function buildAcl(
  policyNames: readonly string[],
  policies: ReadonlyMap<string, readonly VaultPolicyRule[]>,
): VaultAcl {
  const root = policyNames.includes("root");
  const merged = new Map<string, Set<VaultCapability>>();
  for (const name of policyNames) {
    for (const rule of policies.get(name) ?? []) {
      const capabilities = merged.get(rule.path) ?? new Set<VaultCapability>();
      for (const capability of rule.capabilities) capabilities.add(capability);
      merged.set(rule.path, capabilities);
    }
  }
  const rules = [...merged].map(([pattern, capabilities]) => compile(pattern, capabilities));
  const exact = new Map(rules.filter((rule) => !rule.wildcard).map((rule) => [rule.pattern, rule]));
  const wildcards = rules.filter((rule) => rule.wildcard);

  const governing = (path: string): CompiledRule | undefined => {
    const exactRule = exact.get(path);
    if (exactRule !== undefined) return exactRule;
    let best: CompiledRule | undefined;
    for (const rule of wildcards) {
      if (!rule.regex.test(path)) continue;
      if (best === undefined || lowerPriority(best, rule)) best = rule;
    }
    return best;
  };

  const capabilitiesOf = (path: string): ReadonlySet<VaultCapability> => {
    const rule = governing(path);
    if (rule === undefined || rule.capabilities.has("deny")) return new Set();
    return rule.capabilities;
  };

  return {
    root,
    capabilitiesOf,
    allows(path, capability, sudoRequired) {
      if (root) return true;
      const capabilities = capabilitiesOf(path);
      return capabilities.has(capability) && (!sudoRequired || capabilities.has("sudo"));
    },
  };
}
