import { addSeconds } from "./clock.js";
import { ForbiddenError, InvalidRequestError } from "./errors.js";
import type { Principal } from "./principal.js";
import type { LeaseRule, Target } from "./target.js";

const subjectMatches = (pattern: string, subject: string): boolean =>
  pattern.endsWith("*") ? subject.startsWith(pattern.slice(0, -1)) : subject === pattern;

/**
 * The lease rule that lets this workload lease the target without approval, or undefined. People
 * never lease: they request and are approved.
 */
export function leaseRuleFor(principal: Principal, target: Target): LeaseRule | undefined {
  if (principal.kind !== "workload") return undefined;
  return target.leases.find(
    (rule) =>
      rule.provider === principal.provider &&
      subjectMatches(rule.subject, principal.subject) &&
      Object.entries(rule.claims).every(([claim, value]) => principal.claims?.[claim] === value),
  );
}

/**
 * Whether a lease held by `principalId` (`<provider>:<sub>`) counts against `rule`'s `maxActive`:
 * its provider and subject match. Claims are not stored with a lease, so they are not compared; a
 * rule's count may include leases taken under a sibling rule with the same subject pattern.
 */
export function ruleCoversPrincipalId(rule: LeaseRule, principalId: string): boolean {
  const prefix = `${rule.provider}:`;
  return principalId.startsWith(prefix) && subjectMatches(rule.subject, principalId.slice(prefix.length));
}

export function assertMayLease(principal: Principal, target: Target): LeaseRule {
  const rule = leaseRuleFor(principal, target);
  if (!rule) throw new ForbiddenError(`${principal.id} may not lease ${target.id}`);
  return rule;
}

/** A lease is a grant without a request: a workload took it under a lease rule, nobody approved it. */
export const isLease = (grant: { readonly requestId: string | null }): boolean => grant.requestId === null;

/**
 * Why no lease rule of `target` matches the principal now, naming the claims that differ but never a
 * claim's value (the caller's or the rule's).
 */
function leaseMismatch(principal: Principal, target: Target): string {
  const forSubject = target.leases.filter(
    (rule) => rule.provider === principal.provider && subjectMatches(rule.subject, principal.subject),
  );
  if (principal.kind !== "workload" || forSubject.length === 0) {
    return `no lease rule of ${target.id} allows ${principal.id} any more`;
  }
  const differing = new Set(
    forSubject.flatMap((rule) =>
      Object.entries(rule.claims)
        .filter(([claim, value]) => principal.claims?.[claim] !== value)
        .map(([claim]) => claim),
    ),
  );
  return `the lease rule of ${target.id} for ${principal.id} no longer matches this token: claim ${[...differing].join(", ")} differs`;
}

/**
 * The one check before a lease is used (seen, listed, its credential read, renewed, revoked): the
 * caller holds it, and a lease rule of its target, as leasehold.yaml configures it now, still matches
 * the caller's current provider, subject and claims (invariant 12). `target` is undefined when the
 * target was removed, which allows nothing. Returns the rule that allows it.
 */
export function assertMayUseLease(
  principal: Principal,
  lease: { readonly id: string; readonly principalId: string; readonly targetId: string },
  target: Target | undefined,
): LeaseRule {
  if (lease.principalId !== principal.id) {
    throw new ForbiddenError("only the workload that took a lease may use it");
  }
  if (!target) {
    throw new ForbiddenError(
      `lease ${lease.id} may not be used: target ${lease.targetId} is no longer configured`,
    );
  }
  const rule = leaseRuleFor(principal, target);
  if (!rule)
    throw new ForbiddenError(`lease ${lease.id} may not be used: ${leaseMismatch(principal, target)}`);
  return rule;
}

/** The lifetime of a new lease: the asked TTL within the rule's maximum and the backend's minimum. */
export function resolveLeaseTtl(
  target: Target,
  rule: LeaseRule,
  requestedSeconds: number | undefined,
): number {
  const seconds = requestedSeconds ?? Math.min(rule.maxTtlSeconds, target.defaultDurationSeconds);
  const min = target.durationLimits.minSeconds;
  if (!Number.isInteger(seconds) || seconds < min) {
    throw new InvalidRequestError(`${target.id} leases last at least ${min} seconds`);
  }
  if (seconds > rule.maxTtlSeconds) {
    throw new InvalidRequestError(
      `${target.id} leases last at most ${rule.maxTtlSeconds} seconds; asked for ${seconds}`,
    );
  }
  return seconds;
}

/**
 * The end of a lease renewed at `now` by `incrementSeconds`: at most the rule's TTL from now, and the
 * whole lifetime since issue within the target's maximum.
 */
export function resolveRenewal(
  target: Target,
  rule: LeaseRule,
  lease: { issuedAt: Date | null; expiresAt: Date | null },
  incrementSeconds: number,
  now: Date,
): Date {
  if (!lease.issuedAt || !lease.expiresAt || lease.expiresAt <= now) {
    throw new InvalidRequestError("only an active lease before its deadline can be renewed");
  }
  if (incrementSeconds > rule.maxTtlSeconds) {
    throw new InvalidRequestError(`${target.id} leases renew by at most ${rule.maxTtlSeconds} seconds`);
  }
  const deadline = addSeconds(now, incrementSeconds);
  const lifetime = (deadline.getTime() - lease.issuedAt.getTime()) / 1000;
  if (lifetime > target.maxDurationSeconds) {
    throw new InvalidRequestError(
      `${target.id} leases live at most ${target.maxDurationSeconds} seconds in all; take a new lease instead`,
    );
  }
  return deadline;
}
