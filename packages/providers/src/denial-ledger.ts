import type { Grant, Target } from "@leasehold/domain";

/**
 * What a provider sees of the database when one backend object holds the denials of many grants
 * (an IAM role's inline policies, shared by every grant on the role): the provider writes that
 * object whole, from the grants the database says it must cover, alone among every worker, so two
 * revocations on one role can never overwrite each other. The broker implements it.
 */
export type DenialLedger = {
  /**
   * Runs `work` under the lock named `scope.key`, with the grants of every target `scope.sameScope`
   * accepts that are issuing, active, or revoked and not yet cleaned up (`scope.excluding` left
   * out), read after the lock is taken, and the broker's clock. Acts on what `work` reports (see
   * DenialOutcome).
   */
  exclusive(
    scope: {
      readonly key: string;
      readonly sameScope: (target: Target) => boolean;
      readonly excluding?: string | undefined;
    },
    work: (grants: readonly Grant[], now: Date) => Promise<DenialOutcome>,
  ): Promise<void>;
};

/** What writing a shared backend object's denials came to, for the broker to record and announce. */
export type DenialOutcome = {
  /** The backend object, as people know it (the role ARN). */
  readonly scope: string;
  /**
   * Set when the revocations no longer fit one by one and a cut-off denies every session issued
   * before `at` except the live grants' (`kept` of them).
   */
  readonly cutoff: {
    readonly at: Date;
    readonly revocations: number;
    readonly kept: number;
    /** Whether a cut-off was already in place before this write. */
    readonly continued: boolean;
  } | null;
  /** Live grants the cut-off could not keep: their sessions no longer work, so the broker ends them. */
  readonly ended: readonly string[];
  /**
   * How much of the object's size limit is now used (an IAM role's inline-policy characters, all
   * policies together), for the budget metric; absent where the backend has no such limit.
   */
  readonly budget?: { readonly used: number; readonly limit: number };
};
