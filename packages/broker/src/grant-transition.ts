import type { GrantChanges, Repositories } from "@leasehold/db";
import type { AuditAction, Grant, GrantState, JsonValue } from "@leasehold/domain";

export type AuditedTransition = {
  readonly from: readonly GrantState[];
  readonly to: GrantState;
  readonly at: Date;
  readonly changes?: GrantChanges;
  /** Also require that no later issue attempt has started. */
  readonly issueAttempts?: number;
  readonly actor: string;
  readonly action: AuditAction;
  readonly data?: { readonly [key: string]: JsonValue };
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
    await repos.audit.append(
      {
        actor: step.actor,
        action: step.action,
        subjectType: "grant",
        subjectId: grantId,
        data: step.data ?? {},
      },
      step.at,
    );
  }
  return updated;
}
