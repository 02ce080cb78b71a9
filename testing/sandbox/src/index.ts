// Local stand-ins for AWS STS/IAM/Secrets Manager/S3, an OIDC issuer, the Slack Web API, HashiCorp Vault,
// PagerDuty and Opsgenie; see README.md.
export { startAwsSandbox } from "./aws/aws-sandbox.js";
export { SANDBOX_ACCESS_KEY, SANDBOX_USER_ARN } from "./aws/aws-sandbox-state.js";
export type {
  AwsCall,
  AwsFault,
  AwsSandbox,
  AwsSandboxOptions,
  AwsSandboxService,
  AwsServiceName,
  IssuedSession,
  SandboxAccessKeyRecord,
  SandboxBucketConfig,
  SandboxRoleConfig,
  SandboxS3LockMode,
  SandboxS3ObjectVersion,
  SandboxUserConfig,
} from "./aws/aws-sandbox-types.js";
export { SECRETS_MANAGER_LIMITS } from "./aws/secrets-manager-limits.js";
export type {
  SandboxSecretConfig,
  SandboxSecretRecord,
  SandboxSecretVersionRecord,
} from "./aws/secrets-manager-types.js";
export type { MintOptions, OidcIssuer, OidcIssuerOptions, OidcSigningAlg } from "./oidc/oidc-issuer.js";
export { DEFAULT_ACR as OIDC_DEFAULT_ACR, startOidcIssuer } from "./oidc/oidc-issuer.js";
export type {
  OidcClient,
  OidcDeviceCodeOptions,
  OidcGrantType,
  OidcPerson,
} from "./oidc/oidc-provider-types.js";
export { startOpsgenieSandbox } from "./opsgenie/opsgenie-sandbox.js";
export type {
  OpsgenieCall,
  OpsgenieFault,
  OpsgenieIncidentConfig,
  OpsgenieIncidentRecord,
  OpsgenieIncidentStatus,
  OpsgenieResponder,
  OpsgenieSandbox,
  OpsgenieSandboxOptions,
  OpsgenieScheduleConfig,
  OpsgenieShiftConfig,
  OpsgenieUserConfig,
} from "./opsgenie/opsgenie-sandbox-types.js";
export { startPagerDutySandbox } from "./pagerduty/pagerduty-sandbox.js";
export type {
  PagerDutyCall,
  PagerDutyEscalationPolicyConfig,
  PagerDutyFault,
  PagerDutyIncidentConfig,
  PagerDutyIncidentRecord,
  PagerDutyIncidentStatus,
  PagerDutyOnCallConfig,
  PagerDutySandbox,
  PagerDutySandboxOptions,
  PagerDutyScheduleConfig,
  PagerDutyServiceConfig,
  PagerDutyUserConfig,
  PagerDutyWebhookDelivery,
  PagerDutyWebhookResult,
} from "./pagerduty/pagerduty-sandbox-types.js";
export { pagerDutySignature } from "./pagerduty/pagerduty-webhook-sender.js";
export { SLACK_LIMITS } from "./slack/slack-limits.js";
export type { SlackSignatureHeaders, ViewStateValues } from "./slack/slack-request-signing.js";
export {
  blockActionPayload,
  globalShortcutPayload,
  interactionBody,
  postSignedToApp,
  signSlackRequest,
  slashCommandBody,
  UNREACHABLE_RESPONSE_URL,
  viewSubmissionPayload,
} from "./slack/slack-request-signing.js";
export { startSlackSandbox } from "./slack/slack-sandbox.js";
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
} from "./slack/slack-sandbox-types.js";
export { SLACK_SANDBOX_IDS } from "./slack/slack-sandbox-types.js";
export { DEFAULT_POLICY as VAULT_DEFAULT_POLICY } from "./vault/vault-acl.js";
export { startVaultSandbox, VAULT_SANDBOX_VERSION } from "./vault/vault-sandbox.js";
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
} from "./vault/vault-sandbox-types.js";
