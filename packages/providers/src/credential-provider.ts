import { type Grant, scopesByName, type Target, type TargetScope, UpstreamError } from "@leasehold/domain";
import type { z } from "zod";
import type { DenialLedger } from "./denial-ledger.js";
import type { DriftScanner } from "./drift.js";
import type { Credential } from "./issued-credential.js";

/** The approval behind a grant, as far as a provider needs it (for session tags and audit context). */
export type ApprovalContext = {
  readonly requestId: string;
  readonly ticket: string | null;
  /** Distinct approvers, in the order they approved. */
  readonly approvers: readonly string[];
  /** The scopes the request named (or got by default), as recorded; empty: the whole target. */
  readonly scopes: readonly string[];
};

/**
 * The target's scopes a grant is issued with: its request's, or for a workload lease (no request) the
 * target's defaults. A scope the target no longer offers (leasehold.yaml changed after the approval)
 * is a refusal, not a retry: issuing without it would give more than was approved.
 */
export function issuedScopes<S extends TargetScope>(
  target: Target & { readonly scopes: readonly S[] },
  approval: ApprovalContext | null,
): S[] {
  const names = approval ? approval.scopes : target.defaultScopes;
  const { found, missing } = scopesByName(target.scopes, names);
  if (missing.length > 0) {
    throw new UpstreamError(
      `target ${target.id} no longer offers the scope${missing.length > 1 ? "s" : ""} ${missing.join(", ")} this grant was approved with`,
      { retryable: false, upstreamCode: "SCOPE_WITHDRAWN" },
    );
  }
  return found;
}

/**
 * A provider's non-secret reference to what it issued, as the grant stores it (JSON of strings). Each
 * provider types its own and parses the stored one with its reference schema before reading it.
 */
export type ProviderReference = Readonly<Record<string, string>>;

export type IssueInput<Checkpoint extends ProviderReference = ProviderReference> = {
  readonly grant: Grant;
  readonly target: Target;
  /** Null for workload leases, which need no approval. */
  readonly approval: ApprovalContext | null;
  /**
   * Commits a non-secret reference to the grant before a step that creates something the provider
   * would need to find again after a crash (for example the Vault token its lease will belong to).
   * `discardEarlierAttempts` sees it as `grant.providerRef`.
   */
  readonly checkpoint: (reference: Checkpoint) => Promise<void>;
  readonly signal?: AbortSignal | undefined;
};

/** What a provider returns. Only `secret` is secret; it is sealed before it touches the database. */
export type IssuedCredential<
  Reference extends ProviderReference = ProviderReference,
  Secret extends Credential = Credential,
> = {
  /** Non-secret reference kept with the grant (session name, access key id, lease id). */
  readonly reference: Reference;
  readonly secret: Secret;
  /** When the credential stops working by itself; becomes the grant's deadline. */
  readonly expiresAt: Date;
};

export type GrantInput = {
  readonly grant: Grant;
  readonly target: Target;
  readonly signal?: AbortSignal | undefined;
  /** For providers whose denials share one backend object (revoke and release of STS sessions). */
  readonly denials?: DenialLedger | undefined;
};

/**
 * One contract for every backend. All methods but `issue` must be idempotent: the worker retries them
 * after crashes and timeouts. Failures throw UpstreamError with `retryable` set truthfully.
 */
export type CredentialProvider<
  Reference extends ProviderReference = ProviderReference,
  Checkpoint extends ProviderReference = Reference,
  Secret extends Credential = Credential,
> = {
  /** The target kind it serves (`aws-role`, `vault`, `sql`). */
  readonly kind: string;
  /**
   * Creates the credential. `grant.issueAttempts` numbers this attempt, so a retry never reuses the
   * name of a credential an interrupted attempt may have created.
   */
  issue(input: IssueInput<Checkpoint>): Promise<IssuedCredential<Reference, Secret>>;
  /**
   * Called before a retry when an earlier attempt may have created a credential that was never
   * recorded: makes every attempt before `grant.issueAttempts` unusable.
   */
  discardEarlierAttempts(input: GrantInput): Promise<void>;
  /** Ends the credential before its deadline; once this resolves it no longer works. */
  revoke(input: GrantInput): Promise<void>;
  /** At the deadline: makes certain the credential no longer works (a no-op where it ends by itself). */
  expire(input: GrantInput): Promise<void>;
  /**
   * After the deadline, removes what `revoke` or `discardEarlierAttempts` left behind (an STS deny
   * statement). Needed only when `needsRelease(grant)`.
   */
  release(input: GrantInput): Promise<void>;
  needsRelease(grant: Grant): boolean;
  /**
   * Moves the credential's end to `expiresAt` without replacing it (a Vault lease renewal, a new
   * VALID UNTIL). Returns the end the backend granted, which may be earlier. Absent: not renewable
   * (an STS session cannot be lengthened; extend it instead).
   */
  renew?(input: GrantInput & { readonly expiresAt: Date }): Promise<{ readonly expiresAt: Date }>;
  /**
   * A cheap call proving the provider reaches its backend with its own credentials (STS
   * GetCallerIdentity, Vault token lookup-self, `SELECT 1` on the target's admin pool). Changes nothing.
   */
  checkConnection?(input: {
    readonly target: Target;
    readonly signal?: AbortSignal | undefined;
  }): Promise<void>;
  /**
   * Why the backend could not issue this combination of the target's scopes (names it offers, checked
   * already), or undefined. Called before a request is recorded. Absent: any combination will do.
   */
  scopeProblem?(input: { readonly target: Target; readonly scopes: readonly string[] }): string | undefined;
  /** Releases connections the provider holds (database pools). */
  close?(): Promise<void>;
  /** Lists and removes what it left on its backend, for the drift reconciliation. Absent: not scanned. */
  readonly drift?: DriftScanner;
};

/** The providers an installation has, by target kind. */
export type ProviderRegistry = {
  get(kind: string): CredentialProvider;
};

export function providerRegistry(providers: readonly CredentialProvider[]): ProviderRegistry {
  const byKind = new Map<string, CredentialProvider>(providers.map((p) => [p.kind, p]));
  return {
    get(kind) {
      const provider = byKind.get(kind);
      if (!provider) throw new Error(`no credential provider is configured for ${kind} targets`);
      return provider;
    },
  };
}

/**
 * Parses a grant's stored reference with the provider's schema. A malformed one (a row edited by hand,
 * a reference from another kind) stops here with a clear, non-retryable error instead of reaching the
 * backend as `undefined`.
 */
export function parseReference<T>(schema: z.ZodType<T>, grant: Grant, provider: string): T | undefined {
  if (grant.providerRef === null) return undefined;
  const parsed = schema.safeParse(grant.providerRef);
  if (parsed.success) return parsed.data;
  throw new UpstreamError(
    `grant ${grant.id} has a malformed ${provider} reference (${fieldsOf(parsed.error.issues)})`,
    {
      retryable: false,
    },
  );
}

/** The fields a reference's issues name (inside unions too), never their values. */
function fieldsOf(issues: readonly z.core.$ZodIssue[]): string {
  const fields = new Set<string>();
  const collect = (list: readonly z.core.$ZodIssue[]) => {
    for (const issue of list) {
      if (issue.code === "invalid_union" && issue.errors.length > 0) issue.errors.forEach(collect);
      else fields.add(issue.path.join(".") || "(reference)");
    }
  };
  collect(issues);
  return [...fields].join(", ");
}
