import type { Grant, Target, TargetKind } from "@leasehold/domain";

/** The approval behind a grant, as far as a provider needs it (for session tags and audit context). */
export type ApprovalContext = {
  readonly requestId: string;
  readonly ticket: string | null;
  /** Distinct approvers, in the order they approved. */
  readonly approvers: readonly string[];
};

export type IssueInput = {
  readonly grant: Grant;
  readonly target: Target;
  /** Null for workload leases, which need no approval. */
  readonly approval: ApprovalContext | null;
  /**
   * Commits a non-secret reference to the grant before a step that creates something the provider
   * would need to find again after a crash (for example the Vault token its lease will belong to).
   * `discardEarlierAttempts` sees it as `grant.providerRef`.
   */
  readonly checkpoint: (reference: Readonly<Record<string, string>>) => Promise<void>;
  readonly signal?: AbortSignal | undefined;
};

/** What a provider returns. Only `secret` is secret; it is sealed before it touches the database. */
export type IssuedCredential = {
  /** Non-secret reference kept with the grant (session name, access key id, lease id). */
  readonly reference: Readonly<Record<string, string>>;
  readonly secret: Readonly<Record<string, string>>;
  /** When the credential stops working by itself; becomes the grant's deadline. */
  readonly expiresAt: Date;
};

export type GrantInput = {
  readonly grant: Grant;
  readonly target: Target;
  readonly signal?: AbortSignal | undefined;
};

/**
 * One contract for every backend. All methods but `issue` must be idempotent: the worker retries them
 * after crashes and timeouts. Failures throw UpstreamError with `retryable` set truthfully.
 */
export type CredentialProvider = {
  readonly kind: TargetKind;
  /**
   * Creates the credential. `grant.issueAttempts` numbers this attempt, so a retry never reuses the
   * name of a credential an interrupted attempt may have created.
   */
  issue(input: IssueInput): Promise<IssuedCredential>;
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
  /** Releases connections the provider holds (database pools). */
  close?(): Promise<void>;
};

/** The providers an installation has, by target kind. */
export type ProviderRegistry = {
  get(kind: TargetKind): CredentialProvider;
};

export function providerRegistry(providers: readonly CredentialProvider[]): ProviderRegistry {
  const byKind = new Map(providers.map((p) => [p.kind, p]));
  return {
    get(kind) {
      const provider = byKind.get(kind);
      if (!provider) throw new Error(`no credential provider is configured for ${kind} targets`);
      return provider;
    },
  };
}
