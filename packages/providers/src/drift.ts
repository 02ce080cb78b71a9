import type { Target } from "@leasehold/domain";

/** What a drift scan finds on a backend: something Leasehold's naming marks as its own. */
export type BackendLeftoverKind = "sql-role" | "iam-inline-policy" | "vault-token";

/**
 * One thing on a backend that Leasehold created for a grant. `name` is what the audit trail and the
 * logs show (never a secret: a role or policy name, or for a Vault token its grant and attempt with a
 * fingerprint of its accessor); `handle` is what removal needs and is shown nowhere.
 */
export type BackendLeftover = {
  readonly kind: BackendLeftoverKind;
  readonly name: string;
  /** The grant its name points to: the whole id, or (SQL role names) the id's first 16 hex digits. */
  readonly grant: { readonly id: string } | { readonly idPrefix: string };
  readonly handle: string;
};

/**
 * How the reconciliation compares a provider's backend with the database: `list` reads what exists
 * (changing nothing), `remove` ends one thing (idempotent: already gone is fine). Both throw
 * UpstreamError on failure. `scope` names the backend a target lives on, so that targets sharing one
 * (two targets on one IAM role, every Vault target on one Vault) are listed once per scan.
 */
export type DriftScanner = {
  scope(target: Target): string;
  list(input: {
    readonly target: Target;
    readonly signal?: AbortSignal | undefined;
  }): Promise<readonly BackendLeftover[]>;
  remove(input: {
    readonly target: Target;
    readonly leftover: BackendLeftover;
    readonly signal?: AbortSignal | undefined;
  }): Promise<void>;
};

/** The 16-hex-digit prefix of a grant id (the part a SQL role name carries). */
export const grantIdPrefix = (grantId: string): string =>
  grantId.replaceAll("-", "").slice(0, 16).toLowerCase();
