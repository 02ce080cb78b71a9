import { mayRequest, type Principal, type Target } from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";

/** Which targets a person may ask for, for the surfaces that offer a choice (API, Slack's modal). */
export function createTargetQueryService({ targets }: Pick<BrokerDeps, "targets">) {
  return {
    list: (principal: Principal): Target[] => targets.list().filter((t) => mayRequest(principal, t)),
  };
}
