import type { Store } from "@leasehold/db";
import { type Grant, SYSTEM_ACTOR } from "@leasehold/domain";
import { commitGrantStep } from "./audited-change.js";
import type { Logger } from "./broker-deps.js";
import { describeFailure } from "./failures.js";

/**
 * Records that ending a grant keeps failing (invariant 5): the credential may still work at the
 * provider, but Leasehold hands it out no more (its stored copy is wiped, as the schema requires off
 * `active`). A state, an audit event and an error log line; the sweep keeps retrying it.
 */
export async function recordRevocationDebt(
  deps: { store: Store; clock: () => Date; log: Logger },
  grant: Grant,
  error: unknown,
  during: "revoke" | "expire",
): Promise<void> {
  const reason = describeFailure(error);
  await commitGrantStep(deps.store, grant.id, {
    event: "revocation-gave-up",
    at: deps.clock(),
    changes: { lastError: reason, credential: null },
    actor: SYSTEM_ACTOR.worker,
    data: { during, error: reason },
  });
  deps.log.error(
    { grantId: grant.id, during, error: reason },
    "REVOCATION DEBT: the credential may still work",
  );
}
