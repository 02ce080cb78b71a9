// Local stand-ins for AWS STS/IAM/Secrets Manager, an OIDC issuer, the Slack Web API and HashiCorp Vault; see README.md.
export { startAwsSandbox } from "./aws-sandbox.js";
export { SANDBOX_ACCESS_KEY, SANDBOX_USER_ARN } from "./aws-sandbox-state.js";
export type {
  AwsCall,
  AwsFault,
  AwsSandbox,
  AwsSandboxOptions,
  AwsSandboxService,
  AwsServiceName,
  IssuedSession,
  SandboxRoleConfig,
} from "./aws-sandbox-types.js";
export type { MintOptions, OidcIssuer, OidcIssuerOptions, OidcSigningAlg } from "./oidc-issuer.js";
export { startOidcIssuer } from "./oidc-issuer.js";
export { SECRETS_MANAGER_LIMITS } from "./secrets-manager-limits.js";
export type {
  SandboxSecretConfig,
  SandboxSecretRecord,
  SandboxSecretVersionRecord,
} from "./secrets-manager-types.js";
export { SLACK_LIMITS } from "./slack-limits.js";
export type { SlackSignatureHeaders, ViewStateValues } from "./slack-request-signing.js";
export {
  blockActionPayload,
  globalShortcutPayload,
  interactionBody,
  postSignedToApp,
  signSlackRequest,
  slashCommandBody,
  UNREACHABLE_RESPONSE_URL,
  viewSubmissionPayload,
} from "./slack-request-signing.js";
export { startSlackSandbox } from "./slack-sandbox.js";
export type {
  SlackCall,
  SlackEphemeralRecord,
  SlackFault,
  SlackMessageRecord,
  SlackMessageVersion,
  SlackSandbox,
  SlackSandboxChannel,
  SlackSandboxOptions,
  SlackSandboxUser,
  SlackViewRecord,
} from "./slack-sandbox-types.js";
export { SLACK_SANDBOX_IDS } from "./slack-sandbox-types.js";
export { DEFAULT_POLICY as VAULT_DEFAULT_POLICY } from "./vault-acl.js";
export { startVaultSandbox, VAULT_SANDBOX_VERSION } from "./vault-sandbox.js";
export type {
  VaultAppRole,
  VaultCapability,
  VaultDatabaseRole,
  VaultFault,
  VaultKvVersionRecord,
  VaultLeaseRecord,
  VaultLeaseRevocationReason,
  VaultMode,
  VaultPolicyRule,
  VaultRequestRecord,
  VaultSandbox,
  VaultSandboxOptions,
  VaultSandboxToken,
} from "./vault-sandbox-types.js";
