/** Public types of the HashiCorp Vault stand-in (see vault-sandbox.ts and README.md). */

/** Vault policy capabilities. `deny` beats everything else on the same path pattern. */
export type VaultCapability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

/**
 * One `path "…" { capabilities = […] }` block. Patterns as in Vault: an exact path, a trailing `*`
 * glob, and `+` for exactly one whole path segment. Templated paths (`{{identity…}}`) are not supported.
 */
export type VaultPolicyRule = { path: string; capabilities: readonly VaultCapability[] };

/**
 * A dynamic role of the database secrets engine. Statements are split on `;` and templated with
 * `{{name}}`/`{{username}}`, `{{password}}` and `{{expiration}}` (`YYYY-MM-DD HH:MM:SS+0000`, UTC), and
 * run against the real database in one transaction per call, as Vault's plugins do.
 */
export type VaultDatabaseRole = {
  name: string;
  engine: "postgres" | "mysql";
  /** The admin connection, e.g. `postgres://postgres@127.0.0.1:5432/scratch` or `mysql://root@127.0.0.1:3306/scratch`. */
  connectionUrl: string;
  creationStatements: readonly string[];
  /** Empty: Vault's built-in default (PostgreSQL: revoke privileges and `DROP ROLE`; MySQL: `DROP USER`). */
  revocationStatements: readonly string[];
  /**
   * Run on renewal with `{{name}}` and `{{expiration}}` (the new expiry + 5 s, as Vault does). Default for
   * postgres: Vault's `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`. MySQL: Vault's plugin ignores
   * expiration changes, so statements given here are ignored too.
   */
  renewStatements?: readonly string[];
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  /** Where the engine is mounted. Default `database`. */
  mount?: string;
  /**
   * Test device with no Vault counterpart: before the revocation statements, end the user's sessions
   * (PostgreSQL `pg_terminate_backend`, MySQL `KILL`). Default false, because Vault does not: a real
   * role must say so in its revocation statements (PostgreSQL: `SELECT pg_terminate_backend(pid) FROM
   * pg_stat_activity WHERE usename = '{{name}}'`; MariaDB: `KILL USER '{{name}}'`).
   */
  terminateSessionsOnRevoke?: boolean;
};

/** A token that exists from the start (besides the root token). */
export type VaultSandboxToken = {
  token: string;
  /** "default" is added unless `noDefaultPolicy` or the token is a root token (policies include "root"). */
  policies: readonly string[];
  /** Default: never for root tokens, else Vault's system default of 768 h. */
  ttlSeconds?: number;
  /** Default "token". Feeds the `{{display name}}` part of generated database user names. */
  displayName?: string;
  noDefaultPolicy?: boolean;
  /** Default true (false for a non-expiring root token). */
  renewable?: boolean;
};

/** An AppRole role that `auth/approle/login` accepts. */
export type VaultAppRole = {
  roleId: string;
  /** The role's first secret id (more come from `auth/approle/role/:name/secret-id`). */
  secretId: string;
  policies: readonly string[];
  /** Default: Vault's system default of 768 h. */
  tokenTtlSeconds?: number;
  /** The role's name (paths `auth/approle/role/<name>/…`, the token's `meta.role_name`). Default "sandbox". */
  roleName?: string;
  /** The role's `secret_id_ttl`: secret ids expire after it. Default 0, never. */
  secretIdTtlSeconds?: number;
  /** The role's `secret_id_num_uses`: logins each secret id allows. Default 0, unlimited. */
  secretIdNumUses?: number;
};

export type VaultSandboxOptions = {
  /** Default `sandbox-root-<24 random>` (deliberately not `hvs.`-shaped, so secret scanners ignore fixtures). */
  rootToken?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The server's clock: lease and token expiry, timestamps. Default: the wall clock. */
  clock?: () => Date;
  databaseRoles?: readonly VaultDatabaseRole[];
  /** Named policies. "default" replaces Vault's built-in default policy; "root" cannot be defined. */
  policies?: Readonly<Record<string, readonly VaultPolicyRule[]>>;
  tokens?: readonly VaultSandboxToken[];
  approle?: readonly VaultAppRole[];
  /** Where the KV version 2 engine is mounted. Default `secret`. */
  kvMount?: string;
  /**
   * A lease whose revocation fails (database down) is retried after 2^attempt × this, 6 attempts in all,
   * then kept as irrevocable, as Vault does. Default 10, Vault's value.
   */
  revocationRetryBaseSeconds?: number;
};

/**
 * `active`: normal; `standby`: `sys/health` answers 429 (other requests are served, as a standby forwards
 * them to the active node); `sealed`: `sys/health` 503 and everything else 503 "Vault is sealed";
 * `uninitialized`: `sys/health` 501, everything else as sealed.
 */
export type VaultMode = "active" | "standby" | "sealed" | "uninitialized";

/** The next `times` requests whose path (after `/v1/`) starts with `pathPrefix` get this answer, with no effect. */
export type VaultFault = {
  /** GET, POST, PUT, DELETE, LIST…; default any. */
  method?: string;
  pathPrefix: string;
  status: number;
  /** Default [] (`{"errors":[]}`). */
  errors?: readonly string[];
  /** Adds a Retry-After header (Vault's rate-limit quotas send one with 429). */
  retryAfterSeconds?: number;
  times: number;
};

/** Every answered request, oldest first. Never the token: its accessor, when the token was known. */
export type VaultRequestRecord = {
  method: string;
  /** After `/v1/`, without the query string. */
  path: string;
  status: number;
  accessor?: string;
  namespace?: string;
  at: Date;
};

export type VaultLeaseRevocationReason = "revoke" | "expired" | "token-revoked";

/** A database lease as the stand-in holds it (revoked ones stay listed, with `revoked: true`). */
export type VaultLeaseRecord = {
  id: string;
  mount: string;
  role: string;
  engine: "postgres" | "mysql";
  username: string;
  /** Accessor of the token that created the lease; revoking that token revokes the lease. */
  tokenAccessor: string;
  issueTime: Date;
  expireTime: Date;
  lastRenewal?: Date;
  revoked: boolean;
  revokedAt?: Date;
  revokedBecause?: VaultLeaseRevocationReason;
  /** Failed revocation attempts so far, and the last error. */
  revokeAttempts: number;
  lastRevokeError?: string;
  /** Revocation failed 6 times; Vault keeps such a lease until it is revoked by hand. */
  irrevocable: boolean;
};

/** One version of a KV v2 secret. */
export type VaultKvVersionRecord = {
  version: number;
  data: Record<string, unknown>;
  createdTime: Date;
  deletionTime?: Date;
  destroyed: boolean;
};

export type VaultSandbox = {
  /** `http://127.0.0.1:<port>`: node-vault's `endpoint`, or `VAULT_ADDR`. */
  url: string;
  port: number;
  rootToken: string;
  /** Every answered request, oldest first (a live, read-only view). */
  readonly requests: readonly VaultRequestRecord[];
  /** Every database lease issued since start, oldest first (reset() keeps them). */
  leases(): readonly VaultLeaseRecord[];
  /** The accessors of an AppRole role's live secret ids (the first one included), in creation order. */
  appRoleSecretIdAccessors(roleName: string): readonly string[];
  /** The stored versions of a KV v2 secret (path inside the mount), oldest first; [] when none. */
  kv(path: string): readonly VaultKvVersionRecord[];
  /**
   * Every request body and response body seen, plus every string value in
   * them, one string: for "this secret went nowhere else" checks.
   */
  allPayloadsText(): string;
  setMode(mode: VaultMode): void;
  injectFault(fault: VaultFault): void;
  /** While true, every database statement of the engine fails as if the database were unreachable. */
  failDatabase(failing: boolean): void;
  /** Resolves when no revocation is running (token revocation and expiry revoke leases in the background). */
  whenIdle(): Promise<void>;
  /** Test cleanup: revoke every live lease now (runs the revocation statements); throws if one fails. */
  revokeAllLeases(): Promise<void>;
  /**
   * Forgets records, faults and KV data; back to `active` with the database working.
   * Tokens and leases stay: they stand for real database users.
   */
  reset(): void;
  /** Stops the server and the expiry timer and ends the database pools. Revokes nothing. */
  close(): Promise<void>;
};
