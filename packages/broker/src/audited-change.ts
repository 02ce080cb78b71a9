import type { GrantChanges, Repositories, Store } from "@leasehold/db";
import {
  type AuditData,
  type AuditEventInput,
  type Grant,
  type GrantEvent,
  grantEventAction,
  grantTransition,
} from "@leasehold/domain";

/** Records an audit event of the change being made; it is written in the change's transaction. */
export type Record = (event: AuditEventInput) => void;

/**
 * The one way a use case changes state: `change` runs in one transaction, and the audit events it
 * records are appended in that same transaction (invariant 7), in the order recorded. If `change`
 * throws, nothing of it is written. No network call may happen inside `change` (invariant 8).
 */
export function commitAudited<T>(
  store: Store,
  at: Date,
  change: (repos: Repositories, record: Record) => Promise<T>,
): Promise<T> {
  return store.transaction(async (repos) => {
    const events: AuditEventInput[] = [];
    const result = await change(repos, (event) => {
      events.push(event);
    });
    if (events.length > 0) await repos.audit.appendMany(events, at);
    return result;
  });
}

/** The audit data of a grant event's action (see audit-data.ts); optional when the action has none. */
type GrantEventData = {
  [E in GrantEvent]: { readonly event: E } & ({ readonly [key: string]: never } extends AuditData<
    (typeof grantEventAction)[E]
  >
    ? { readonly data?: AuditData<(typeof grantEventAction)[E]> }
    : { readonly data: AuditData<(typeof grantEventAction)[E]> });
}[GrantEvent];

export type GrantStep = GrantEventData & {
  readonly at: Date;
  readonly changes?: GrantChanges;
  /** Also require that no later issue attempt has started. */
  readonly issueAttempts?: number;
  readonly actor: string;
};

/**
 * Moves a grant as the domain state machine says `step.event` does, and records the event's audit
 * action. Returns the updated grant, or undefined when the grant was in a state the event may not
 * happen in (someone else got there first); then nothing is recorded.
 */
export async function moveGrant(
  repos: Repositories,
  record: Record,
  grantId: string,
  step: GrantStep,
): Promise<Grant | undefined> {
  return (await moveSealedGrant(repos, record, grantId, step))?.grant;
}

/**
 * `moveGrant`, also saying whether the grant's row is sealed (db's grant-seal.ts): for a use of the
 * moved grant, in the same transaction, that must refuse a row changed outside Leasehold.
 */
export async function moveSealedGrant(
  repos: Repositories,
  record: Record,
  grantId: string,
  step: GrantStep,
): Promise<{ grant: Grant; sealed: boolean } | undefined> {
  const { from, to } = grantTransition(step.event);
  const updated = await repos.grants.transition(
    grantId,
    from,
    to,
    step.at,
    step.changes ?? {},
    step.issueAttempts === undefined ? {} : { issueAttempts: step.issueAttempts },
  );
  if (updated) {
    // GrantEventData pairs each event with its action's data; TypeScript cannot carry that pairing
    // through the lookup, so it is restated here.
    record({
      actor: step.actor,
      action: grantEventAction[step.event],
      subjectType: "grant",
      subjectId: grantId,
      data: step.data ?? {},
    } as AuditEventInput);
  }
  return updated;
}

/** `moveGrant` in a transaction of its own. */
export const commitGrantStep = (store: Store, grantId: string, step: GrantStep) =>
  commitAudited(store, step.at, (repos, record) => moveGrant(repos, record, grantId, step));
