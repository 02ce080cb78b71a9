/*
 * The providers' schemas only: target settings, duration limits, references and credential kinds,
 * with no SDK behind them. packages/config composes leasehold.yaml from these
 * (`@leasehold/providers/schemas`) without loading AWS, Vault or database drivers.
 */
export * from "./audit-s3/s3-audit-schema.js";
export * from "./aws-sts/aws-role-schemas.js";
export * from "./aws-sts/aws-scope-policy.js";
export * from "./aws-sts/sts-limits.js";
export * from "./issued-credential.js";
export * from "./on-call/on-call-schemas.js";
export * from "./sql-native/sql-schemas.js";
export * from "./vault/vault-schemas.js";
