import { checkString, IAM_LIMITS } from "./aws-limits.js";
import { AwsQueryError, validationError } from "./aws-query-error.js";
import { element, isoSeconds } from "./aws-query-xml.js";
import { type Role, SANDBOX_USER_ARN, type SandboxState } from "./aws-sandbox-state.js";
import { policyDocumentProblem, policySizeWithoutWhitespace } from "./policy-document.js";
import type { QueryParams } from "./query-params.js";

/** IAM actions the stand-in serves (what early revocation needs); any other is InvalidAction. */
export const IAM_ACTIONS = [
  "GetRole",
  "PutRolePolicy",
  "GetRolePolicy",
  "DeleteRolePolicy",
  "ListRolePolicies",
] as const;

const MEMBER_RULES = {
  RoleName: ["roleName", IAM_LIMITS.roleName],
  PolicyName: ["policyName", IAM_LIMITS.policyName],
  PolicyDocument: ["policyDocument", IAM_LIMITS.policyDocument],
} as const;

/**
 * Reads required members in order, refusing every broken model constraint at once with a
 * ValidationError, as IAM does.
 */
function readMembers(params: QueryParams, names: readonly (keyof typeof MEMBER_RULES)[]): string[] {
  const problems: string[] = [];
  const values = names.map((name) => {
    const value = params.get(name);
    const [member, rule] = MEMBER_RULES[name];
    checkString(problems, member, value, rule, true);
    return value ?? "";
  });
  if (problems.length > 0) throw validationError(problems);
  return values;
}

const roleNameOnly = (params: QueryParams): string => readMembers(params, ["RoleName"])[0] ?? "";

function findRole(state: SandboxState, roleName: string): Role {
  const role = state.rolesByName.get(roleName);
  if (role === undefined) {
    throw new AwsQueryError(404, "NoSuchEntity", `The role with name ${roleName} cannot be found.`);
  }
  return role;
}

function findPolicy(role: Role, policyName: string): string {
  const document = role.inlinePolicies.get(policyName);
  if (document === undefined) {
    throw new AwsQueryError(404, "NoSuchEntity", `The role policy with name ${policyName} cannot be found.`);
  }
  return document;
}

/** IAM returns policy documents URL-encoded (RFC 3986); the caller decodes them. */
const urlEncoded = (document: string): string => encodeURIComponent(document);

/** The trust policy implied by the role's configuration, as GetRole shows it. */
function trustPolicy(role: Role): string {
  const actions = [
    "sts:AssumeRole",
    ...(role.allowTagSession ? ["sts:TagSession"] : []),
    ...(role.allowSetSourceIdentity ? ["sts:SetSourceIdentity"] : []),
  ];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: SANDBOX_USER_ARN },
        Action: actions,
        ...(role.externalId === undefined
          ? {}
          : { Condition: { StringEquals: { "sts:ExternalId": role.externalId } } }),
      },
    ],
  });
}

export function getRole(state: SandboxState, params: QueryParams): string {
  const role = findRole(state, roleNameOnly(params));
  return (
    "<Role>" +
    element("Path", role.path) +
    element("AssumeRolePolicyDocument", urlEncoded(trustPolicy(role))) +
    element("MaxSessionDuration", role.maxSessionDurationSeconds) +
    element("RoleId", role.roleId) +
    element("RoleName", role.name) +
    element("Arn", role.arn) +
    element("CreateDate", isoSeconds(role.createdAt)) +
    "</Role>"
  );
}

/**
 * PutRolePolicy: creates or replaces one inline policy. The document must be well formed, and the
 * role's inline policies together must stay within 10,240 characters not counting whitespace.
 */
export function putRolePolicy(state: SandboxState, params: QueryParams): undefined {
  const [roleName = "", policyName = "", document = ""] = readMembers(params, [
    "RoleName",
    "PolicyName",
    "PolicyDocument",
  ]);
  const role = findRole(state, roleName);
  const problem = policyDocumentProblem(document);
  if (problem !== undefined) throw new AwsQueryError(400, "MalformedPolicyDocument", problem);
  let total = policySizeWithoutWhitespace(document);
  for (const [name, other] of role.inlinePolicies) {
    if (name !== policyName) total += policySizeWithoutWhitespace(other);
  }
  if (total > IAM_LIMITS.maxInlinePolicyCharsPerRole) {
    throw new AwsQueryError(
      409,
      "LimitExceeded",
      `Maximum policy size of ${IAM_LIMITS.maxInlinePolicyCharsPerRole} bytes exceeded for role ${role.name}`,
    );
  }
  role.inlinePolicies.set(policyName, document);
  return undefined;
}

export function getRolePolicy(state: SandboxState, params: QueryParams): string {
  const [roleName = "", policyName = ""] = readMembers(params, ["RoleName", "PolicyName"]);
  const role = findRole(state, roleName);
  const document = findPolicy(role, policyName);
  return (
    element("RoleName", role.name) +
    element("PolicyName", policyName) +
    element("PolicyDocument", urlEncoded(document))
  );
}

export function deleteRolePolicy(state: SandboxState, params: QueryParams): undefined {
  const [roleName = "", policyName = ""] = readMembers(params, ["RoleName", "PolicyName"]);
  const role = findRole(state, roleName);
  findPolicy(role, policyName);
  role.inlinePolicies.delete(policyName);
  return undefined;
}

/** ListRolePolicies: every name in one page (a role holds few inline policies; no pagination). */
export function listRolePolicies(state: SandboxState, params: QueryParams): string {
  const role = findRole(state, roleNameOnly(params));
  const names = [...role.inlinePolicies.keys()].sort();
  return (
    `<PolicyNames>${names.map((name) => element("member", name)).join("")}</PolicyNames>` +
    element("IsTruncated", "false")
  );
}
