import { decideWithInvariants } from "./explain.js";
import { actionContext, DEFAULT_REQUESTER } from "./policy-cases.js";
import { groupMemberId, namedPeopleAndGroups, type PolicyWorld, personPrincipal } from "./policy-universe.js";

/*
 * `leasehold approvers <target>`: who could approve a request for the target now, at each escalation
 * level, asked of the engine with the Approve action (a neutral request by someone who is not them).
 */

/** One possible approver and the policies that let them. */
export type Approver = { readonly id: string; readonly policies: readonly string[] };

export type ApproverLevel = {
  /** 0: the request as posted; n: after n escalations. */
  readonly level: number;
  readonly people: readonly Approver[];
  /** Groups any member of which could approve (through the group alone). */
  readonly groups: readonly Approver[];
};

export type TargetApprovers = {
  readonly target: string;
  readonly requiredApprovals: number;
  readonly levels: readonly ApproverLevel[];
};

/**
 * Who could approve a request for `targetId` at `now`, per level. A person is asked with the groups
 * slack.groups gives them (how they act through Slack); a group by a synthetic member with that group
 * only. Undefined when the world has no such target.
 */
export function approversOf(world: PolicyWorld, targetId: string, now: Date): TargetApprovers | undefined {
  const target = world.targets.find((t) => t.id === targetId);
  if (!target) return undefined;
  const { people, groups } = namedPeopleAndGroups(world);
  const slackGroups = Object.entries(world.slack?.groups ?? {});
  const groupsOf = (id: string) => slackGroups.filter(([, members]) => members.includes(id)).map(([g]) => g);
  const candidates = [
    ...people
      .filter((id) => id !== DEFAULT_REQUESTER)
      .map((id) => ({ id, group: false, principal: personPrincipal(id, groupsOf(id)) })),
    ...groups.map((g) => ({ id: g, group: true, principal: personPrincipal(groupMemberId(g), [g]) })),
  ];
  const levels: ApproverLevel[] = [];
  for (let level = 0; level <= target.escalation.length; level++) {
    const context = { ...actionContext("Approve", target, {}), escalationLevel: level };
    const allowed = candidates.flatMap((c) => {
      const { decision } = decideWithInvariants(world.engine, {
        action: "Approve",
        principal: c.principal,
        resource: { type: "Target", target },
        context,
        now,
      });
      return decision.allowed ? [{ ...c, policies: decision.policies }] : [];
    });
    levels.push({
      level,
      people: allowed.filter((a) => !a.group).map(({ id, policies }) => ({ id, policies })),
      groups: allowed.filter((a) => a.group).map(({ id, policies }) => ({ id, policies })),
    });
  }
  return { target: target.id, requiredApprovals: target.requiredApprovals, levels };
}
