import type { Principal, PrincipalSet, Target } from "@leasehold/domain";
import type { PolicyEngine } from "./engine.js";
import type { LoadedPolicy } from "./policy-set.js";

/*
 * The principals a configuration talks about, for `policy diff` and `leasehold approvers`: everyone and
 * every group leasehold.yaml or a policy file names, and the workloads its lease rules describe.
 * Nobody else can gain or lose anything by a change to them, except through a group, and each group
 * stands for its members by one synthetic member.
 */

/** A configuration with its engine, as `policy diff` and `approvers` read it (leasehold.yaml fits). */
export type PolicyWorld = {
  readonly engine: PolicyEngine;
  readonly targets: readonly Target[];
  readonly admins: PrincipalSet;
  /** Who may read the audit trail and the access reports (leasehold.yaml's `auditors`). */
  readonly auditors?: PrincipalSet | undefined;
  readonly rotations: readonly { readonly id: string }[];
  readonly slack?:
    | {
        readonly users: Readonly<Record<string, string>>;
        readonly groups: Readonly<Record<string, readonly string[]>>;
      }
    | undefined;
};

/** A principal to ask about, with how to show it. */
export type NamedPrincipal = {
  /** Unique among the universe: the principal id, or `member-of:<group>` for a group's stand-in. */
  readonly key: string;
  readonly label: string;
  readonly principal: Principal;
};

/** The synthetic member that stands for "any member of the group". */
export const groupMemberId = (group: string): string => `member-of:${group}`;

/** The provider synthetic principals claim: they come from no identity provider. */
const SYNTHETIC_PROVIDER = "leasehold-policy";

function principalSets(world: PolicyWorld): PrincipalSet[] {
  return [
    world.admins,
    ...(world.auditors ? [world.auditors] : []),
    ...world.targets.flatMap((t) => [
      t.requesters,
      t.approvers,
      t.breakGlass.allowed,
      ...t.escalation.map((level) => level.approvers),
    ]),
  ];
}

/** Entity ids of one type named in Cedar text (`Leasehold::Group::"sre"`), unescaped. */
function cedarIds(policies: readonly LoadedPolicy[], type: string): string[] {
  const pattern = new RegExp(`Leasehold::${type}::"((?:[^"\\\\]|\\\\.)*)"`, "g");
  return policies.flatMap((p) =>
    [...p.text.matchAll(pattern)].map((m) => (m[1] ?? "").replace(/\\(.)/g, "$1")),
  );
}

/** People (emails) and groups the world names, in leasehold.yaml, the Slack mapping and policy files. */
export function namedPeopleAndGroups(world: PolicyWorld): { people: string[]; groups: string[] } {
  const sets = principalSets(world);
  const slackGroups = world.slack?.groups ?? {};
  const people = [
    ...sets.flatMap((s) => s.users),
    ...Object.values(world.slack?.users ?? {}),
    ...Object.values(slackGroups).flat(),
    ...cedarIds(world.engine.policies, "Person"),
  ].filter((id) => !id.includes(":"));
  const groups = [
    ...sets.flatMap((s) => s.groups),
    ...Object.keys(slackGroups),
    ...cedarIds(world.engine.policies, "Group"),
  ];
  return { people: [...new Set(people)].sort(), groups: [...new Set(groups)].sort() };
}

/** A person as a decision sees them: only the groups given (none, unless the caller knows better). */
export const personPrincipal = (id: string, groups: readonly string[] = []): Principal => ({
  id,
  kind: "human",
  provider: SYNTHETIC_PROVIDER,
  subject: id,
  groups,
});

/** Workloads: every lease rule's (its subject as written, `*` included, and its claims) and every named id. */
function namedWorkloads(world: PolicyWorld): NamedPrincipal[] {
  const out = new Map<string, NamedPrincipal>();
  for (const target of world.targets) {
    for (const rule of target.leases) {
      const id = `${rule.provider}:${rule.subject}`;
      const claims = Object.entries(rule.claims).sort(([a], [b]) => a.localeCompare(b));
      const key = claims.length > 0 ? `${id} {${claims.map(([k, v]) => `${k}=${v}`).join(", ")}}` : id;
      const principal: Principal = {
        id,
        kind: "workload",
        provider: rule.provider,
        subject: rule.subject,
        groups: [],
        claims: Object.fromEntries(claims),
      };
      out.set(key, { key, label: `workload ${key}`, principal });
    }
  }
  const ids = [
    ...principalSets(world).flatMap((s) => s.users),
    ...cedarIds(world.engine.policies, "Workload"),
  ];
  for (const id of ids.filter((i) => i.includes(":"))) {
    const colon = id.indexOf(":");
    const principal: Principal = {
      id,
      kind: "workload",
      provider: id.slice(0, colon),
      subject: id.slice(colon + 1),
      groups: [],
      claims: {},
    };
    if (!out.has(id)) out.set(id, { key: id, label: `workload ${id}`, principal });
  }
  return [...out.values()];
}

/**
 * Everyone the worlds name: people with no groups, one synthetic member per group (labelled as such),
 * and the workloads of lease rules and principal lists. Sorted by key.
 */
export function principalUniverse(worlds: readonly PolicyWorld[]): NamedPrincipal[] {
  const out = new Map<string, NamedPrincipal>();
  for (const world of worlds) {
    const { people, groups } = namedPeopleAndGroups(world);
    for (const id of people) out.set(id, { key: id, label: id, principal: personPrincipal(id) });
    for (const group of groups) {
      const key = groupMemberId(group);
      out.set(key, { key, label: `any member of group ${group}`, principal: personPrincipal(key, [group]) });
    }
    for (const workload of namedWorkloads(world)) out.set(workload.key, workload);
  }
  return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
}
