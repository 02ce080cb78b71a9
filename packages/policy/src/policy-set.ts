import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { NAMESPACE } from "./schema.js";

/** A file of Cedar policies: where it came from (for messages) and its text. */
export type PolicySource = { readonly file: string; readonly text: string };

/** One policy of the set, with where it was written. */
export type LoadedPolicy = {
  readonly id: string;
  readonly effect: "permit" | "forbid";
  readonly file: string;
  /** 1-based line of the policy's first character in its file. */
  readonly line: number;
  readonly text: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The one target its scope names (`resource == Leasehold::Target::"x"`), or undefined. */
  readonly target: string | undefined;
};

/** The target id a policy's resource scope pins, when it pins exactly one. */
function pinnedTarget(resource: cedar.ResourceConstraint): string | undefined {
  if (resource.op !== "==" || !("entity" in resource)) return undefined;
  const uid = "__entity" in resource.entity ? resource.entity.__entity : resource.entity;
  return uid.type === `${NAMESPACE}::Target` ? uid.id : undefined;
}

/** Why a policy set could not be loaded: one line per problem, each naming file, line and column. */
export class PolicyLoadError extends Error {
  override readonly name = "PolicyLoadError";
  constructor(readonly problems: readonly string[]) {
    super(`the policies are not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Largest policy file accepted, and most policies in all: beyond either is a mistake, not a policy. */
const MAX_FILE_BYTES = 1_000_000;
const MAX_POLICIES = 10_000;
/** A policy id, from `@id("…")` or made from the file name and position. */
const POLICY_ID = /^[\w./:-]{1,128}$/;

const lineColumn = (text: string, offset: number) => {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
};

/** "file:line:column: message (help)" for each Cedar diagnostic. */
function describe(source: PolicySource, errors: readonly cedar.DetailedError[], base = 0): string[] {
  return errors.map((error) => {
    const at = error.sourceLocations?.[0];
    const where = at ? lineColumn(source.text, base + at.start) : undefined;
    const label = at?.label ? ` (${at.label})` : "";
    const help = error.help ? `; ${error.help}` : "";
    return `${source.file}${where ? `:${where.line}:${where.column}` : ""}: ${error.message}${label}${help}`;
  });
}

/**
 * The policies of one file, each with an id: its `@id` annotation, or `<file>:<line>`. Parse errors
 * name the file, line and column.
 */
function policiesOf(source: PolicySource): LoadedPolicy[] {
  if (Buffer.byteLength(source.text) > MAX_FILE_BYTES) {
    throw new PolicyLoadError([`${source.file}: larger than ${MAX_FILE_BYTES} bytes`]);
  }
  const parsed = cedar.checkParsePolicySet({ staticPolicies: source.text });
  if (parsed.type === "failure") throw new PolicyLoadError(describe(source, parsed.errors));
  const parts = cedar.policySetTextToParts(source.text);
  if (parts.type === "failure") throw new PolicyLoadError(describe(source, parts.errors));
  if (parts.policy_templates.length > 0) {
    throw new PolicyLoadError([`${source.file}: templates (?principal, ?resource) are not supported`]);
  }
  let searchFrom = 0;
  return parts.policies.map((text) => {
    // Each part is a slice of the file's text, in order: find it to know its line.
    const offset = source.text.indexOf(text, searchFrom);
    searchFrom = offset >= 0 ? offset + text.length : searchFrom;
    const line = offset >= 0 ? lineColumn(source.text, offset).line : 0;
    const json = cedar.policyToJson(text);
    if (json.type === "failure")
      throw new PolicyLoadError(describe(source, json.errors, Math.max(0, offset)));
    const annotations = json.json.annotations ?? {};
    const id = annotations.id ?? `${source.file}:${line}`;
    if (!POLICY_ID.test(id)) {
      throw new PolicyLoadError([
        `${source.file}:${line}: @id("${id.slice(0, 130)}") is not a policy id: use letters, digits and ._/:- (at most 128)`,
      ]);
    }
    return {
      id,
      effect: json.json.effect,
      file: source.file,
      line,
      text,
      annotations,
      target: pinnedTarget(json.json.resource),
    };
  });
}

/** Strict validation of each file against the schema; problems name file, line and column. */
function validateAgainst(schema: string, source: PolicySource): string[] {
  const answer = cedar.validate({ schema, policies: { staticPolicies: source.text } });
  if (answer.type === "failure") return describe(source, answer.errors);
  return describe(
    source,
    answer.validationErrors.map((e) => e.error),
  );
}

/**
 * Parses and validates every source against the schema, and gives each policy a unique id. Throws a
 * PolicyLoadError listing every problem found.
 */
export function loadPolicies(schema: string, sources: readonly PolicySource[]): LoadedPolicy[] {
  const problems: string[] = [];
  const policies: LoadedPolicy[] = [];
  for (const source of sources) {
    try {
      policies.push(...policiesOf(source));
      problems.push(...validateAgainst(schema, source));
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
      problems.push(...error.problems);
    }
  }
  const seen = new Map<string, LoadedPolicy>();
  for (const policy of policies) {
    const first = seen.get(policy.id);
    if (first) {
      problems.push(
        `${policy.file}:${policy.line}: policy id "${policy.id}" is already used at ${first.file}:${first.line}; give each @id once`,
      );
    }
    seen.set(policy.id, policy);
  }
  if (policies.length > MAX_POLICIES) problems.push(`more than ${MAX_POLICIES} policies in all`);
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return policies;
}
