import { describe, expect, it } from "vitest";
import { LimitExceededError } from "./errors.js";
import {
  isLease,
  leaseRefusal,
  resolveLeaseTtl,
  resolveRenewal,
  ruleCoversPrincipalId,
} from "./lease-policy.js";
import { secondsUntilFree } from "./limits.js";
import type { Principal } from "./principal.js";
import { databaseTargetSchema } from "./test-target-kinds.js";

const target = databaseTargetSchema.parse({
  id: "orders",
  kind: "database",
  maxDuration: "4h",
  defaultDuration: "30m",
  leases: [
    { provider: "k8s", subject: "system:serviceaccount:orders:*", claims: { cluster: "prod" }, maxTtl: "1h" },
  ],
  database: { path: "orders" },
});

const workload = (subject: string, claims: Record<string, string> = { cluster: "prod" }): Principal => ({
  id: `k8s:${subject}`,
  kind: "workload",
  provider: "k8s",
  subject,
  groups: [],
  claims,
});

describe("why a lease is refused", () => {
  const holder = workload("system:serviceaccount:orders:api");

  it("names the claim that differs but not its values", () => {
    const message = leaseRefusal(workload(holder.subject, { cluster: "staging" }), target);
    expect(message).toMatch(/lease rule of orders .* no longer matches this token: claim cluster differs/);
    expect(message).not.toMatch(/staging|prod/);
  });

  it("says no rule allows the workload when none names it", () => {
    expect(leaseRefusal(holder, { ...target, leases: [] })).toMatch(
      /no lease rule of orders allows k8s:system:serviceaccount:orders:api any more/,
    );
  });

  it("knows a lease by its missing request", () => {
    expect(isLease({ requestId: null })).toBe(true);
    expect(isLease({ requestId: "r-1" })).toBe(false);
  });
});

describe("lease lifetimes", () => {
  const rule =
    target.leases[0] ??
    (() => {
      throw new Error("rule");
    })();

  it("defaults to the lesser of the target default and the rule maximum", () => {
    expect(resolveLeaseTtl(target, rule, undefined)).toBe(1800);
  });

  it.each([0, -1, 9, 3601, 1.5])("refuses a TTL of %s", (ttl) => {
    expect(() => resolveLeaseTtl(target, rule, ttl)).toThrow();
  });

  it("renews within the rule and the target's total lifetime", () => {
    const issuedAt = new Date("2026-11-23T10:00:00Z");
    const lease = { issuedAt, expiresAt: new Date("2026-11-23T10:30:00Z") };
    const now = new Date("2026-11-23T10:20:00Z");
    expect(resolveRenewal(target, rule, lease, 3600, now)).toEqual(new Date("2026-11-23T11:20:00Z"));
    expect(() => resolveRenewal(target, rule, lease, 3601, now)).toThrow(/at most 3600/);
    const late = new Date("2026-11-23T13:30:00Z");
    expect(() =>
      resolveRenewal(target, rule, { issuedAt, expiresAt: new Date("2026-11-23T13:40:00Z") }, 3600, late),
    ).toThrow(/in all/);
  });
});

describe("caps on lease rules", () => {
  const [rule] = target.leases;

  it("counts a lease against a rule when the holder's provider and subject match it", () => {
    if (!rule) throw new Error("the target has a lease rule");
    expect(rule.maxActive).toBe(100);
    expect(ruleCoversPrincipalId(rule, "k8s:system:serviceaccount:orders:api")).toBe(true);
    expect(ruleCoversPrincipalId(rule, "k8s:system:serviceaccount:billing:api")).toBe(false);
    expect(ruleCoversPrincipalId(rule, "gha:system:serviceaccount:orders:api")).toBe(false);
    expect(ruleCoversPrincipalId(rule, "k8sx:system:serviceaccount:orders:api")).toBe(false);
  });

  it("says when to retry: when the first held slot frees, at least a second, a minute when unknown", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(secondsUntilFree(now, new Date("2026-01-01T00:00:09.200Z"))).toBe(10);
    expect(secondsUntilFree(now, new Date("2025-12-31T23:59:00Z"))).toBe(1);
    expect(secondsUntilFree(now, null)).toBe(60);
    const error = new LimitExceededError("limits.activeLeases", "too many", 0.2);
    expect(error.retryAfterSeconds).toBe(1);
    expect(error.message).toBe("too many (limit limits.activeLeases; try again in 1 s)");
  });
});
