import type { Principal, Target } from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { mayRequest } from "./policy-checks.js";

/** Which targets a person may ask for, for the surfaces that offer a choice (API, Slack's modal). */
export function createTargetQueryService(deps: Pick<BrokerDeps, "targets" | "policy" | "clock">) {
  return {
    list: (principal: Principal): Target[] =>
      deps.targets.list().filter((t) => mayRequest(deps, principal, t)),
  };
}
