import type { PrincipalSet } from "@leasehold/domain";
import { NAMESPACE } from "./schema.js";

/*
 * Writing Cedar text from values that came from leasehold.yaml. Every value passes through `literal`,
 * so a group name or subject can never end a string early and inject a policy clause.
 */

/** A Cedar string literal: backslashes and quotes escaped (the config schemas refuse control characters). */
export const literal = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A Cedar `like` pattern matching `prefix` and anything after it. */
export const prefixPattern = (prefix: string): string => `"${prefix.replace(/[\\"*]/g, (c) => `\\${c}`)}*"`;

export const entityType = (type: string): string => `${NAMESPACE}::${type}`;

export const entity = (type: string, id: string): string => `${entityType(type)}::${literal(id)}`;

export const action = (name: string): string => `${NAMESPACE}::Action::${literal(name)}`;

/**
 * `principal in [Person::"a"] || principal in [Group::"g"]` (one list per entity type: strict
 * validation refuses a set mixing types), or undefined when the set names nobody.
 */
export function memberCondition(set: PrincipalSet): string | undefined {
  const lists = [
    set.users.filter((id) => !id.includes(":")).map((id) => entity("Person", id)),
    set.users.filter((id) => id.includes(":")).map((id) => entity("Workload", id)),
    set.groups.map((g) => entity("Group", g)),
  ].filter((list) => list.length > 0);
  if (lists.length === 0) return undefined;
  const clauses = lists.map((list) => `principal in [${list.join(", ")}]`);
  return clauses.length === 1 ? clauses[0] : `(${clauses.join(" || ")})`;
}

/** One policy: annotations, the scope, and optional conditions joined with &&. */
export function policy(
  id: string,
  effect: "permit" | "forbid",
  scope: { principal?: string; action: string; resource?: string },
  conditions: readonly string[] = [],
  annotations: Readonly<Record<string, string>> = {},
): string {
  const head = [
    `@id(${literal(id)})`,
    ...Object.entries(annotations).map(([k, v]) => `@${k}(${literal(v)})`),
  ];
  const when = conditions.length > 0 ? `\nwhen { ${conditions.join(" && ")} }` : "";
  return `${head.join("\n")}\n${effect} (\n  ${scope.principal ?? "principal"},\n  action == ${scope.action},\n  ${scope.resource ?? "resource"}\n)${when};\n`;
}
