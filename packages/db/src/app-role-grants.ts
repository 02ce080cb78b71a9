import type { SqlExecutor } from "./database.js";

/**
 * What the application role (DATABASE_URL's, when migrations run as another role through
 * DATABASE_MIGRATION_URL) may do to each table: only what the repositories need. No table of records
 * gets DELETE (expiring_keys holds no records: its expired rows are deleted as they pile up) or
 * TRUNCATE, and the audit trail is SELECT and INSERT only; since the app role owns nothing, it can
 * neither alter a table nor drop the trigger that refuses changes to audit events. Every table of the
 * schema must be listed: a new migration's table without an entry stops the migration, so a
 * privilege is never granted by default or forgotten.
 */
export const appRolePrivileges: Readonly<Record<string, string>> = {
  schema_migrations: "SELECT",
  access_requests: "SELECT, INSERT, UPDATE",
  reviews: "SELECT, INSERT",
  grants: "SELECT, INSERT, UPDATE",
  audit_events: "SELECT, INSERT",
  // The head advances with every append; its id never changes.
  audit_head: "SELECT, UPDATE (seq, hash, mac, key_id)",
  slack_request_messages: "SELECT, INSERT",
  slack_escalation_messages: "SELECT, INSERT",
  grant_incidents: "SELECT, INSERT",
  // A break-glass is reviewed once; its posts are remembered to be rewritten in place.
  break_glass_reviews: "SELECT, INSERT",
  slack_break_glass_messages: "SELECT, INSERT",
  audit_cursors: "SELECT, INSERT, UPDATE",
  audit_sink_cursors: "SELECT, INSERT, UPDATE",
  rotation_runs: "SELECT, INSERT, UPDATE",
  // A secret id moves pending → current → retired (wiped); rows stay as the record.
  vault_secret_ids: "SELECT, INSERT, UPDATE",
  // Revoking sets revoked_at and revoked_by; nothing else of a window ever changes.
  pre_approvals: "SELECT, INSERT, UPDATE (revoked_at, revoked_by)",
  // A session is seen, then ended; its identity, principal and lifetime never change.
  web_sessions: "SELECT, INSERT, UPDATE (last_seen_at, ended_at, ended_by)",
  // A sign-in in flight is taken by deleting it; expired ones are deleted as new ones arrive.
  web_logins: "SELECT, INSERT, DELETE",
  // Each write deletes a few expired keys (expiring-key-repo.ts).
  expiring_keys: "SELECT, INSERT, UPDATE, DELETE",
};

/**
 * Replaces whatever the migrating (owner) role granted `appRole` on this schema's tables with
 * `appRolePrivileges`. Runs in the migration's transaction, so no process sees new tables without
 * their grants. Refuses an app role that is, or may act as, the owner: then nothing would be
 * separated.
 */
export async function grantAppRole(tx: SqlExecutor, appRole: string): Promise<void> {
  const [who] = await tx.query<{ owner: string; role: string; schema: string; acts_as_owner: boolean }>(
    `SELECT current_user AS owner, quote_ident($1) AS role, quote_ident(current_schema()) AS schema,
            pg_has_role($1, current_user, 'MEMBER') AS acts_as_owner`,
    [appRole],
  );
  if (!who) throw new Error("the database did not say which role is migrating");
  if (who.acts_as_owner) {
    throw new Error(
      `DATABASE_URL's role "${appRole}" is, or may act as, the role "${who.owner}" that DATABASE_MIGRATION_URL migrates as (or is a superuser): give the API, worker and bot a role of their own that owns nothing (README, "Database roles")`,
    );
  }
  const tables = await tx.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
  );
  const unlisted = tables.map((t) => t.name).filter((name) => !(name in appRolePrivileges));
  if (unlisted.length > 0) {
    throw new Error(`no application-role privileges are declared for ${unlisted.join(", ")}`);
  }
  const statements = [
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${who.schema} FROM ${who.role}`,
    `GRANT USAGE ON SCHEMA ${who.schema} TO ${who.role}`,
    ...tables.map((t) => `GRANT ${appRolePrivileges[t.name]} ON ${t.name} TO ${who.role}`),
  ];
  await tx.exec(statements.join(";\n"));
}
