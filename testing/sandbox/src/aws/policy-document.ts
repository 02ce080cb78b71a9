/**
 * A structural check of IAM policy JSON, enough to refuse what IAM and STS refuse with
 * `MalformedPolicyDocument`: bad JSON, unknown elements, a missing Effect/Action/Resource, a
 * Principal in an identity or session policy, non-alphanumeric or duplicate Sids, actions and
 * condition keys without a service prefix, resources that are neither `*` nor an ARN. It does not
 * know the catalogue of real actions or condition keys, and no policy is ever evaluated.
 *
 * Deliberately stricter than IAM in one place: a document without `Version` is refused (IAM would
 * fall back to the 2008 grammar, in which policy variables do not work), because every policy
 * Leasehold writes must say "2012-10-17".
 */

const VERSIONS = new Set(["2012-10-17", "2008-10-17"]);
const DOCUMENT_KEYS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);

const SYNTAX = "Syntax errors in policy.";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A string or a non-empty array of strings, as Action and Resource allow. */
function stringOrList(value: Json | undefined): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string")) {
    return value.filter((item): item is string => typeof item === "string");
  }
  return undefined;
}

function statementProblem(statement: Json, sids: Set<string>): string | undefined {
  if (!isObject(statement)) return SYNTAX;
  if (Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) return SYNTAX;

  const sid = statement.Sid;
  if (sid !== undefined) {
    if (typeof sid !== "string") return SYNTAX;
    if (!/^[0-9A-Za-z]*$/.test(sid)) {
      return "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
    }
    if (sid !== "" && sids.has(sid)) return "Statement IDs (SID) in a single policy must be unique.";
    sids.add(sid);
  }

  if (statement.Effect === undefined) return "Missing required field Effect";
  if (statement.Effect !== "Allow" && statement.Effect !== "Deny") return SYNTAX;

  if (statement.Principal !== undefined || statement.NotPrincipal !== undefined) {
    return "Policy document should not specify a principal.";
  }

  if (statement.Action !== undefined && statement.NotAction !== undefined) return SYNTAX;
  const actionValue = statement.Action ?? statement.NotAction;
  if (actionValue === undefined) return "Policy statement must contain actions.";
  const actions = stringOrList(actionValue);
  if (actions === undefined) return SYNTAX;
  if (actions.some((action) => action !== "*" && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(action))) {
    return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
  }

  if (statement.Resource !== undefined && statement.NotResource !== undefined) return SYNTAX;
  const resourceValue = statement.Resource ?? statement.NotResource;
  if (resourceValue === undefined) return "Policy statement must contain resources.";
  const resources = stringOrList(resourceValue);
  if (resources === undefined) return SYNTAX;
  const badResource = resources.find((resource) => resource !== "*" && !resource.startsWith("arn:"));
  if (badResource !== undefined) return `Resource ${badResource} must be in ARN format or "*".`;

  if (statement.Condition !== undefined) return conditionProblem(statement.Condition);
  return undefined;
}

/** `{ Operator: { "vendor:key": value | [values] } }` with string, number or boolean values. */
function conditionProblem(condition: Json): string | undefined {
  if (!isObject(condition)) return SYNTAX;
  for (const clause of Object.values(condition)) {
    if (!isObject(clause)) return SYNTAX;
    for (const [key, value] of Object.entries(clause)) {
      if (!/^[A-Za-z0-9-]+:.+$/.test(key)) {
        return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
      }
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.some((item) => item === null || typeof item === "object")) {
        return SYNTAX;
      }
    }
  }
  return undefined;
}

/** Why IAM would refuse this identity (or session) policy as malformed, or undefined if it would not. */
export function policyDocumentProblem(text: string): string | undefined {
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch {
    return SYNTAX;
  }
  if (!isObject(document)) return SYNTAX;
  if (Object.keys(document).some((key) => !DOCUMENT_KEYS.has(key))) return SYNTAX;
  const version = document.Version;
  if (version === undefined) return 'Policy document must specify a Version ("2012-10-17").';
  if (typeof version !== "string" || !VERSIONS.has(version)) return "The policy failed legacy parsing";
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  if (document.Statement === undefined || statements.length === 0) return SYNTAX;
  const sids = new Set<string>();
  for (const statement of statements) {
    if (statement === undefined) return SYNTAX;
    const problem = statementProblem(statement, sids);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A policy's size as IAM counts it against a role's inline-policy budget: whitespace is not counted. */
export const policySizeWithoutWhitespace = (text: string): number => text.replace(/\s/g, "").length;
