import type * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Principal, Target } from "@leasehold/domain";
import { NAMESPACE } from "./schema.js";

/*
 * One decision's question as Cedar takes it: principal, action, resource, context and entities. Shared
 * by the engine and by `policy explain`, which asks the same question of each policy alone.
 */

/** What a decision is about: a target, the audit trail, or a rotation. */
export type PolicyResource =
  | { readonly type: "Target"; readonly target: Target }
  | { readonly type: "AuditTrail" }
  | { readonly type: "Rotation"; readonly id: string };

/** The parts of a query Cedar needs; `context` holds the action's facts besides the time. */
export type CedarQuery = {
  readonly action: string;
  readonly principal: Principal;
  readonly resource: PolicyResource;
  readonly context: object;
  readonly now: Date;
};

export const uid = (type: string, id: string) => ({ type: `${NAMESPACE}::${type}`, id });

/** The principal and resource as Cedar entities: attributes and groups come only from verified claims. */
function entitiesOf(principal: Principal, resource: PolicyResource): cedar.EntityJson[] {
  const groups = principal.groups.map((g) => uid("Group", g));
  const who: cedar.EntityJson =
    principal.kind === "human"
      ? { uid: uid("Person", principal.id), attrs: { provider: principal.provider }, parents: groups }
      : {
          uid: uid("Workload", principal.id),
          attrs: { provider: principal.provider, subject: principal.subject },
          parents: groups,
          tags: { ...principal.claims },
        };
  if (resource.type !== "Target") return [who];
  const t = resource.target;
  return [
    who,
    {
      uid: uid("Target", t.id),
      attrs: {
        kind: t.kind,
        environment: t.environment,
        requiredApprovals: t.requiredApprovals,
        maxDurationSeconds: t.maxDurationSeconds,
      },
      parents: [],
      tags: { ...t.tags },
    },
  ];
}

const resourceUid = (resource: PolicyResource) =>
  resource.type === "Target"
    ? uid("Target", resource.target.id)
    : resource.type === "AuditTrail"
      ? uid("AuditTrail", "audit")
      : uid("Rotation", resource.id);

/** The time fields every context has, in UTC: a datetime, the ISO weekday and the hour. */
function clockOf(now: Date): cedar.Context {
  const weekday = now.getUTCDay() === 0 ? 7 : now.getUTCDay();
  return {
    now: { __extn: { fn: "datetime", arg: now.toISOString() } },
    weekday,
    hour: now.getUTCHours(),
  };
}

/** The Cedar request for a query: attributes and groups come only from the principal given. */
export function cedarRequest(query: CedarQuery) {
  const type = query.principal.kind === "human" ? "Person" : "Workload";
  return {
    principal: uid(type, query.principal.id),
    action: uid("Action", query.action),
    resource: resourceUid(query.resource),
    context: { ...clockOf(query.now), ...(query.context as cedar.Context) },
    entities: entitiesOf(query.principal, query.resource),
  };
}
