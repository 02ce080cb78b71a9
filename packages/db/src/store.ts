import { type AccessRequestRepo, accessRequestRepo } from "./access-request-repo.js";
import { type AuditLog, auditLog } from "./audit-log.js";
import { type AuditSinkCursorRepo, auditSinkCursorRepo } from "./audit-sink-cursor-repo.js";
import { type AutoApprovalRepo, autoApprovalRepo } from "./auto-approval-repo.js";
import { type BreakGlassRepo, breakGlassRepo } from "./break-glass-repo.js";
import type { Database, SqlExecutor } from "./database.js";
import { type GrantRepo, grantRepo } from "./grant-repo.js";
import type { Keyring } from "./keyring.js";
import { type NotificationRepo, notificationRepo } from "./notification-repo.js";
import { type PreApprovalRepo, preApprovalRepo } from "./pre-approval-repo.js";
import { type ResealRepo, resealRepo } from "./reseal-repo.js";
import { type RotationRunRepo, rotationRunRepo } from "./rotation-run-repo.js";
import { type VaultSecretIdRepo, vaultSecretIdRepo } from "./vault-secret-id-repo.js";
import { type WebLoginRepo, webLoginRepo } from "./web-login-repo.js";
import { type WebSessionRepo, webSessionRepo } from "./web-session-repo.js";

/** The repositories, bound to one executor (the pool, or one transaction). */
export type Repositories = {
  readonly requests: AccessRequestRepo;
  readonly grants: GrantRepo;
  readonly audit: AuditLog;
  readonly notifications: NotificationRepo;
  readonly rotations: RotationRunRepo;
  readonly autoApprovals: AutoApprovalRepo;
  readonly preApprovals: PreApprovalRepo;
  readonly breakGlass: BreakGlassRepo;
  readonly auditSinks: AuditSinkCursorRepo;
  readonly webSessions: WebSessionRepo;
  readonly webLogins: WebLoginRepo;
  readonly vaultSecretIds: VaultSecretIdRepo;
  readonly reseal: ResealRepo;
};

/**
 * What the use cases see of the database: reads outside a transaction, and short transactions in
 * which every state change and its audit event commit together (invariant 7). Nothing that calls the
 * network may run inside `transaction` (invariant 8).
 */
export type Store = {
  read<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  /**
   * Runs `work` alone among every process using this database that asks for `key`, with no
   * transaction open (so it may call the network). `work` reads and writes through the store it is
   * given, which uses the lock's own connection.
   */
  exclusive<T>(key: string, work: (store: Store) => Promise<T>): Promise<T>;
};

/**
 * The keys derived from one master key: `auditKey` chains the audit trail, `grantKey` seals grant rows
 * (grant-seal.ts); `keyId` is the master key's id, recorded beside what they chain and seal.
 */
export type StoreKeySet = { readonly keyId: string; readonly auditKey: Buffer; readonly grantKey: Buffer };

/** The current master key's keys, and the previous master keys' (read only: the re-seal moves them over). */
export type StoreKeys = StoreKeySet & { readonly previous?: readonly StoreKeySet[] };

const ringOf = (keys: StoreKeys, purpose: "auditKey" | "grantKey"): Keyring => ({
  current: { id: keys.keyId, key: keys[purpose] },
  previous: (keys.previous ?? []).map((set) => ({ id: set.keyId, key: set[purpose] })),
});

export function createStore(db: Database, options: StoreKeys): Store {
  const auditRing = ringOf(options, "auditKey");
  const grantRing = ringOf(options, "grantKey");
  const bind = (sql: SqlExecutor): Repositories => ({
    requests: accessRequestRepo(sql),
    grants: grantRepo(sql, grantRing),
    audit: auditLog(sql, auditRing),
    notifications: notificationRepo(sql),
    rotations: rotationRunRepo(sql),
    autoApprovals: autoApprovalRepo(sql),
    preApprovals: preApprovalRepo(sql),
    breakGlass: breakGlassRepo(sql),
    auditSinks: auditSinkCursorRepo(sql),
    webSessions: webSessionRepo(sql),
    webLogins: webLoginRepo(sql),
    vaultSecretIds: vaultSecretIdRepo(sql),
    reseal: resealRepo(sql, grantRing),
  });
  const pooled = bind(db);
  return {
    read: (work) => work(pooled),
    transaction: (work) => db.transaction((tx) => work(bind(tx))),
    exclusive: (key, work) => db.exclusive(key, (locked) => work(createStore(locked, options))),
  };
}
