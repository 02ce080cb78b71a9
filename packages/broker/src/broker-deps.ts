import type { Store } from "@leasehold/db";
import type { Caps, Clock, Metrics, Target } from "@leasehold/domain";
import type { PolicyEngine } from "@leasehold/policy";
import type { OnCallSource, ProviderRegistry } from "@leasehold/providers";
import type { GrantQueues } from "@leasehold/queue";
import type { CredentialCipher } from "./credential-cipher.js";

/** The targets in leasehold.yaml. */
export type TargetCatalog = {
  get(id: string): Target | undefined;
  list(): readonly Target[];
};

export function targetCatalog(targets: readonly Target[]): TargetCatalog {
  const byId = new Map(targets.map((t) => [t.id, t]));
  return { get: (id) => byId.get(id), list: () => targets };
}

/** The part of a pino logger the use cases use. Never pass a secret in either argument. */
export type Logger = {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
};

/** Everything the use cases need, wired once in each app's main.ts. */
export type BrokerDeps = {
  readonly store: Store;
  readonly targets: TargetCatalog;
  readonly providers: ProviderRegistry;
  readonly queues: Pick<GrantQueues, "issue" | "expireAt" | "revoke">;
  readonly cipher: CredentialCipher;
  readonly clock: Clock;
  readonly newId: () => string;
  /**
   * Decides who may do what: leasehold.yaml's lists (targets, admins) translated to Cedar, and the
   * policy files beside it.
   */
  readonly policy: PolicyEngine;
  readonly log: Logger;
  /** PagerDuty / Opsgenie, for on-call auto-approval; omitted: nobody counts as on call. */
  readonly onCall?: OnCallSource | undefined;
  /** Per-principal caps (leasehold.yaml's `limits`); omitted: DEFAULT_CAPS. */
  readonly caps?: Caps | undefined;
  /** Where issue and revoke latencies, expiry lateness and rotation outcomes are counted; omitted: nowhere. */
  readonly metrics?: Metrics | undefined;
};

/** How a worker job is running, for deciding between "retry" and "give up". */
export type Attempt = {
  /** True when no retry will follow if this one fails. */
  readonly isLast: boolean;
  readonly signal?: AbortSignal | undefined;
};
