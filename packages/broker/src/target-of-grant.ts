import { type Grant, type Target, UpstreamError } from "@leasehold/domain";
import type { TargetCatalog } from "./broker-deps.js";

/** The grant's target; a grant whose target was removed from leasehold.yaml cannot be handled. */
export function targetOfGrant(targets: TargetCatalog, grant: Grant): Target {
  const target = targets.get(grant.targetId);
  if (!target) {
    throw new UpstreamError(`target ${grant.targetId} of grant ${grant.id} is no longer configured`, {
      retryable: false,
    });
  }
  return target;
}
