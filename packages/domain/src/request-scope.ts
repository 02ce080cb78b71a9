import { z } from "zod";
import { InvalidRequestError } from "./errors.js";
import { boundedText } from "./text.js";

/*
 * Per-request scope: a target may offer named scopes (an AWS session policy, a Vault role, a set of
 * SQL statements), and a requester picks some of them. What a scope *does* belongs to the provider of
 * its kind; what every kind shares is here: the names, their bounds, and the rule that a request may
 * name only scopes its target offers.
 */

/** Scopes one target may offer. */
export const MAX_SCOPES_PER_TARGET = 50;
/** Scopes one request may name (AWS unions them into one session policy of at most 2,048 characters). */
export const MAX_SCOPES_PER_REQUEST = 10;

export const scopeNameSchema = z
  .string()
  .trim()
  .min(1, "a scope name must not be empty")
  .max(63, "a scope name must be at most 63 characters")
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    "a scope name is lower-case letters, digits and dashes, like read-only",
  );

const withoutDuplicates = (names: readonly string[]) => new Set(names).size === names.length;

/** The scopes a request names, at an edge: bounded, no name twice. */
export const requestedScopesSchema = z
  .array(scopeNameSchema)
  .max(MAX_SCOPES_PER_REQUEST, `a request may name at most ${MAX_SCOPES_PER_REQUEST} scopes`)
  .refine(withoutDuplicates, { message: "a scope is named twice" });

/** What every scope has in leasehold.yaml, whatever its kind; the kind adds its own block. */
export const scopeBaseShape = {
  name: scopeNameSchema,
  /** Shown to the requester when choosing and to the approvers when deciding. */
  description: boundedText({ min: 0, max: 300, label: "scope description" }).default(""),
};

/** A scope as every part of Leasehold sees it (the kind's own settings ride along untyped here). */
export type TargetScope = { readonly name: string; readonly description: string };

/** The target fields this file reads. */
type Scoped = {
  readonly id: string;
  readonly scopes: readonly TargetScope[];
  readonly defaultScopes: readonly string[];
};

/**
 * Checks the list of scopes at config load: names unique, defaults among them, within bounds.
 * Returns the problems as [path, message] pairs for the target schema to report.
 */
export function scopeListProblems(target: Omit<Scoped, "id">): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const offered = new Set<string>();
  target.scopes.forEach((scope, index) => {
    if (offered.has(scope.name))
      problems.push([["scopes", index, "name"], `scope ${scope.name} is declared twice`]);
    offered.add(scope.name);
  });
  if (!withoutDuplicates(target.defaultScopes))
    problems.push([["defaultScopes"], "a default scope is named twice"]);
  target.defaultScopes.forEach((name, index) => {
    if (!offered.has(name))
      problems.push([["defaultScopes", index], `default scope ${name} is not among the target's scopes`]);
  });
  return problems;
}

/**
 * The scopes a request gets: those it names, or the target's defaults when it names none. Refused
 * (before anything is recorded) when a name is not offered by the target, repeats, or there are too many.
 */
export function resolveRequestedScopes(target: Scoped, requested: readonly string[] | undefined): string[] {
  const names =
    requested === undefined || requested.length === 0 ? [...target.defaultScopes] : [...requested];
  if (names.length > MAX_SCOPES_PER_REQUEST)
    throw new InvalidRequestError(`a request may name at most ${MAX_SCOPES_PER_REQUEST} scopes`);
  if (!withoutDuplicates(names)) throw new InvalidRequestError("a scope is named twice");
  const offered = new Set(target.scopes.map((scope) => scope.name));
  const unknown = names.filter((name) => !offered.has(name));
  if (unknown.length > 0) {
    const choices = target.scopes.length > 0 ? `; it offers ${[...offered].join(", ")}` : "; it offers none";
    throw new InvalidRequestError(`${target.id} has no scope called ${unknown.join(", ")}${choices}`);
  }
  return names;
}

/**
 * The target's scopes of the given names, in the order named. For the issuer: a name the target no
 * longer offers (its configuration changed after the request) returns its name in `missing`.
 */
export function scopesByName<S extends TargetScope>(
  scopes: readonly S[],
  names: readonly string[],
): { found: S[]; missing: string[] } {
  const byName = new Map(scopes.map((scope) => [scope.name, scope]));
  const found: S[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const scope = byName.get(name);
    if (scope) found.push(scope);
    else missing.push(name);
  }
  return { found, missing };
}
