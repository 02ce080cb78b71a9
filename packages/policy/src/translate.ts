import type { LeaseRule, PrincipalSet, Target } from "@leasehold/domain";
import { action, entity, entityType, literal, memberCondition, policy, prefixPattern } from "./cedar-text.js";
import type { PolicySource } from "./policy-set.js";

/*
 * leasehold.yaml's lists, as Cedar: one engine decides everything. Each list becomes one policy with
 * an id that says where it came from (`target/prod/approvers`), so an audit event or a refusal names
 * the line of leasehold.yaml behind it.
 */

/** Where the translated policies say they come from, in messages and `policy explain`. */
export const TRANSLATED_FILE = "leasehold.yaml";

/** The id of the policy translated from lease rule `index` of a target. */
export const leaseRulePolicyId = (targetId: string, index: number): string =>
  `target/${targetId}/leases/${index}`;

function leaseRuleConditions(rule: LeaseRule): string[] {
  return [
    `principal.provider == ${literal(rule.provider)}`,
    rule.subject.endsWith("*")
      ? `principal.subject like ${prefixPattern(rule.subject.slice(0, -1))}`
      : `principal.subject == ${literal(rule.subject)}`,
    ...Object.entries(rule.claims).map(
      ([claim, value]) =>
        `principal.hasTag(${literal(claim)}) && principal.getTag(${literal(claim)}) == ${literal(value)}`,
    ),
  ];
}

/** The policies one target's lists say. */
function targetPolicies(target: Target): string[] {
  const resource = `resource == ${entity("Target", target.id)}`;
  const out: string[] = [];
  const permitMembers = (suffix: string, name: string, set: PrincipalSet, extra: readonly string[] = []) => {
    const members = memberCondition(set);
    if (members)
      out.push(
        policy(`target/${target.id}/${suffix}`, "permit", { action: action(name), resource }, [
          members,
          ...extra,
        ]),
      );
  };
  permitMembers("requesters", "Request", target.requesters);
  permitMembers("approvers", "Approve", target.approvers);
  // Escalation level n adds its approvers once the request has reached it; earlier ones keep their right.
  target.escalation.forEach((level, index) => {
    permitMembers(`escalation/${index + 1}`, "Approve", level.approvers, [
      `context.escalationLevel >= ${index + 1}`,
    ]);
  });
  permitMembers("break-glass", "BreakGlass", target.breakGlass.allowed);
  if (target.autoApprove.onCall) {
    out.push(
      policy(
        `target/${target.id}/auto-approve/on-call`,
        "permit",
        { action: action("AutoApprove"), resource },
        ["context.onCall"],
      ),
    );
  }
  if (target.autoApprove.incidents) {
    out.push(
      policy(
        `target/${target.id}/auto-approve/incident`,
        "permit",
        { action: action("AutoApprove"), resource },
        ["!context.incidents.isEmpty()"],
      ),
    );
  }
  target.leases.forEach((rule, index) => {
    out.push(
      policy(
        leaseRulePolicyId(target.id, index),
        "permit",
        { principal: `principal is ${entityType("Workload")}`, action: action("Lease"), resource },
        leaseRuleConditions(rule),
      ),
    );
  });
  return out;
}

/** What every installation allows unless a forbid policy says otherwise. */
function builtinPolicies(admins: PrincipalSet, auditors: PrincipalSet | undefined): string[] {
  const out = [
    policy("builtin/holder-extends", "permit", { action: action("Extend") }, ["context.holder"]),
    policy("builtin/holder-revokes", "permit", { action: action("Revoke") }, ["context.holder"]),
    // A window is one approver's word: it approves only where one approval is enough.
    policy("builtin/pre-approved", "permit", { action: action("AutoApprove") }, [
      "context.preApproved",
      "resource.requiredApprovals == 1",
    ]),
  ];
  const members = memberCondition(admins);
  if (members) {
    for (const [suffix, name] of [
      ["revoke", "Revoke"],
      ["read-audit", "ReadAudit"],
      ["rotate", "Rotate"],
    ] as const) {
      out.push(policy(`admins/${suffix}`, "permit", { action: action(name) }, [members]));
    }
  }
  // Auditors read (the trail and the access reports built from it) and change nothing.
  const auditorMembers = auditors ? memberCondition(auditors) : undefined;
  if (auditorMembers) {
    out.push(policy("auditors/read-audit", "permit", { action: action("ReadAudit") }, [auditorMembers]));
  }
  return out;
}

/** leasehold.yaml's lists (targets, admins, auditors) and the built-in rules, as one Cedar source. */
export function translateConfig(input: {
  targets: readonly Target[];
  admins: PrincipalSet;
  auditors?: PrincipalSet | undefined;
}): PolicySource {
  const text = [
    ...builtinPolicies(input.admins, input.auditors),
    ...input.targets.flatMap(targetPolicies),
  ].join("\n");
  return { file: TRANSLATED_FILE, text };
}
