import { addSeconds } from "./clock.js";
import { InvalidRequestError } from "./errors.js";
import type { Principal } from "./principal.js";
import type { LeaseRule, Target } from "./target.js";

const subjectMatches = (pattern: string, subject: string): boolean =>
  pattern.endsWith("*") ? subject.startsWith(pattern.slice(0, -1)) : subject === pattern;

/**
 * Whether a lease held by `principalId` (`<provider>:<sub>`) counts against `rule`'s `maxActive`:
 * its provider and subject match. Claims are not stored with a lease, so they are not compared; a
 * rule's count may include leases taken under a sibling rule with the same subject pattern.
 */
export function ruleCoversPrincipalId(rule: LeaseRule, principalId: string): boolean {
  const prefix = `${rule.provider}:`;
  return principalId.startsWith(prefix) && subjectMatches(rule.subject, principalId.slice(prefix.length));
}

/** A lease is a grant without a request: a workload took it under a lease rule, nobody approved it. */
export const isLease = (grant: { readonly requestId: string | null }): boolean => grant.requestId === null;

/**
 * Why no lease rule of `target` matches the principal now, naming the claims that differ but never a
 * claim's value (the caller's or the rule's): the words of a lease refusal.
 */
export function leaseRefusal(principal: Principal, target: Target): string {
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
