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
export { type LoadedPolicy, loadPolicies, PolicyLoadError, type PolicySource } from "./policy-set.js";
export { ACTION_SPECS, ACTIONS, type Action, cedarSchema, NAMESPACE } from "./schema.js";
export { leaseRulePolicyId, TRANSLATED_FILE, translateConfig } from "./translate.js";
