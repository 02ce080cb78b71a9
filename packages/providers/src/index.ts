export * from "./audit-s3/index.js";
export * from "./aws-sts/aws-clients.js";
export { toAwsError } from "./aws-sts/aws-errors.js";
export { asAwsRoleTarget } from "./aws-sts/aws-role-schemas.js";
export * from "./aws-sts/deny-policy.js";
export * from "./aws-sts/session-identity.js";
export * from "./aws-sts/sts-provider.js";
export * from "./credential-provider.js";
export * from "./denial-ledger.js";
export * from "./drift.js";
export * from "./on-call/on-call-source.js";
export * from "./on-call/on-call-sources.js";
export * from "./on-call/opsgenie-source.js";
export * from "./on-call/pagerduty-source.js";
export * from "./on-call/pagerduty-webhook.js";
export * from "./rotation/alternating-roles.js";
export * from "./rotation/database-password.js";
export * from "./rotation/role-password.js";
export * from "./rotation/rotated-credential.js";
export * from "./rotation/secret-store.js";
export * from "./rotation/secrets-manager-store.js";
export * from "./rotation/vault-kv-store.js";
export * from "./schemas.js";
export * from "./sql-native/password-verifier.js";
export { POSTGRES_ACL_LOCK } from "./sql-native/postgres-admin.js";
export { generateSqlPassword, sqlExpiration, sqlRoleName } from "./sql-native/sql-credentials.js";
export { type SqlErrorContext, sqlUpstreamError } from "./sql-native/sql-errors.js";
export * from "./sql-native/sql-provider.js";
export {
  type PasswordForm,
  type PasswordForTemplates,
  passwordForTemplates,
} from "./sql-native/sql-stored-password.js";
export * from "./vault/vault-client.js";
export * from "./vault/vault-errors.js";
export * from "./vault/vault-provider.js";
