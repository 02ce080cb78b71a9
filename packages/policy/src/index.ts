export { type AccessChange, type AccessDiff, DIFF_TIME, diffAccess } from "./access-diff.js";
export { type Approver, type ApproverLevel, approversOf, type TargetApprovers } from "./approvers.js";
export {
  type ContextOf,
  createPolicyEngine,
  type PolicyDecision,
  type PolicyEngine,
  type PolicyQuery,
  type PolicyResource,
  policyEngineFor,
  type RequestDetails,
} from "./engine.js";
export {
  decideWithInvariants,
  type Explanation,
  explainQuery,
  invariantRefusal,
  mentionsAction,
  type PolicyVerdict,
} from "./explain.js";
export {
  type CaseContext,
  type CasePrincipal,
  caseContextSchema,
  casePrincipalSchema,
  type PolicyCase,
  PolicyCaseError,
  type PolicyCasesFile,
  parsePolicyCases,
  policyCaseSchema,
} from "./policy-case-schema.js";
export {
  actionContext,
  type CaseResult,
  type CaseWorld,
  casePrincipal,
  caseQuery,
  DEFAULT_REQUESTER,
  neutralRequest,
  runPolicyCases,
} from "./policy-cases.js";
export { type LoadedPolicy, loadPolicies, PolicyLoadError, type PolicySource } from "./policy-set.js";
export {
  groupMemberId,
  type NamedPrincipal,
  namedPeopleAndGroups,
  type PolicyWorld,
  personPrincipal,
  principalUniverse,
} from "./policy-universe.js";
export { ACTION_SPECS, ACTIONS, type Action, cedarSchema, NAMESPACE } from "./schema.js";
export { leaseRulePolicyId, TRANSLATED_FILE, translateConfig } from "./translate.js";
