import type { GrantChanges, Repositories } from "@leasehold/db";
import type { AuditAction, AuditData, AuditEventInput, Grant, GrantState } from "@leasehold/domain";

type GrantAuditAction = Extract<AuditAction, `grant.${string}`>;

/** The audit event a transition writes: its action, and that action's data (optional when it has none). */
type GrantAuditStep = {
  [A in GrantAuditAction]: { readonly action: A } & (Record<string, never> extends AuditData<A>
    ? { readonly data?: AuditData<A> }
    : { readonly data: AuditData<A> });
}[GrantAuditAction];

export type AuditedTransition = GrantAuditStep & {
  readonly from: readonly GrantState[];
  readonly to: GrantState;
  readonly at: Date;
  readonly changes?: GrantChanges;
  /** Also require that no later issue attempt has started. */
  readonly issueAttempts?: number;
  readonly actor: string;
};

/**
 * Moves a grant and writes the audit event for it, in the caller's transaction (invariant 7).
 * Returns the updated grant, or undefined when it was no longer in `from`; then nothing is written.
 */
export async function transitionGrant(
  repos: Repositories,
  grantId: string,
  step: AuditedTransition,
): Promise<Grant | undefined> {
  const updated = await repos.grants.transition(
    grantId,
    step.from,
    step.to,
    step.at,
    step.changes ?? {},
    step.issueAttempts === undefined ? {} : { issueAttempts: step.issueAttempts },
  );
  if (updated) {
    // GrantAuditStep pairs each action with its data; TypeScript cannot carry that pairing through
    // the property reads, so it is restated here.
    const event = {
      actor: step.actor,
      action: step.action,
      subjectType: "grant",
      subjectId: grantId,
      data: step.data ?? {},
    } as AuditEventInput<GrantAuditAction>;
    await repos.audit.append(event, step.at);
  }
  return updated;
}
