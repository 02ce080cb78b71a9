import { type Target, UpstreamError } from "@leasehold/domain";
import { type CredentialProvider, type GrantInput, issuedScopes } from "../credential-provider.js";
import type { DatabaseCredential } from "../issued-credential.js";
import type { SqlAdmin, SqlAdminConnection } from "./sql-admin.js";
import { createSqlAdminPools } from "./sql-admin-pool.js";
import {
  credentialUrl,
  generateSqlPassword,
  renderSqlStatements,
  sqlExpiration,
  sqlRoleName,
} from "./sql-credentials.js";
import { createSqlDrift } from "./sql-drift.js";
import { isDuplicateRoleError, type SqlErrorContext, sqlUpstreamError } from "./sql-errors.js";
import { asSqlTarget, type SqlReference, type SqlTarget } from "./sql-schemas.js";
import { passwordForTemplates } from "./sql-stored-password.js";

export type SqlProviderOptions = {
  /** The admin connection URL of a target: the app's env.ts reads the variable `sql.adminUrlEnv` names. */
  readonly adminUrlFor: (target: SqlTarget) => string;
  /** Admin connections per target, shared by every lease. Default 5. */
  readonly maxConnectionsPerTarget?: number;
  /** Default: the system clock. */
  readonly clock?: () => Date;
} & Pick<SqlAdminConnection, "postgresSocket">;

/**
 * Native PostgreSQL roles and MySQL/MariaDB users, created and dropped by Leasehold with the
 * target's statement templates. Role names are deterministic per grant and attempt
 * (`lh_<grant>_a<n>`), so no checkpoint is needed: an interrupted attempt's role is found by name.
 * PostgreSQL's VALID UNTIL stops password logins at the deadline but not open sessions, and MySQL has
 * no deadline at all, so `expire` drops the role like `revoke` does.
 */
/** The SQL provider, with its reference and credential types. */
export type SqlProvider = CredentialProvider<SqlReference, SqlReference, DatabaseCredential>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a provider is one object of the contract's methods over the pools it closes over; each method is short.
export function createSqlProvider(options: SqlProviderOptions): SqlProvider {
  const clock = options.clock ?? (() => new Date());
  const pools = createSqlAdminPools({
    maxConnections: options.maxConnectionsPerTarget ?? 5,
    ...(options.postgresSocket ? { postgresSocket: options.postgresSocket } : {}),
  });

  /** The target's admin, and how to report its failures without secrets. */
  const open = (anyTarget: Target) => {
    const target = asSqlTarget(anyTarget);
    const context = (admin?: SqlAdmin): SqlErrorContext => ({
      targetId: target.id,
      engine: target.sql.engine,
      secrets: admin?.secrets ?? [],
    });
    try {
      const admin = pools.forTarget(target, options.adminUrlFor(target));
      return { target, admin, context: context(admin) };
    } catch (error) {
      throw sqlUpstreamError(error, "opening the admin connection", context());
    }
  };

  /** Ends the roles of the given attempts (the ones that exist). */
  const endAttempts = async (input: GrantInput, attempts: readonly number[], action: string) => {
    if (attempts.length === 0) return;
    const { target, admin, context } = open(input.target);
    const roles = attempts.map((attempt) => {
      const name = sqlRoleName(input.grant.id, attempt);
      return { name, revocation: renderSqlStatements(target, "revocationStatements", { name }) };
    });
    try {
      await admin.endRoles(roles, input.signal);
    } catch (error) {
      throw sqlUpstreamError(error, action, context);
    }
  };

  return {
    kind: "sql",

    async issue({ grant, target: anyTarget, approval, signal }) {
      const username = sqlRoleName(grant.id, grant.issueAttempts);
      const { target: configured, admin, context } = open(anyTarget);
      // A scope brings its own creation statements (read-only, read-write); revocation stays the target's.
      const [scope] = issuedScopes(configured, approval);
      const target: SqlTarget = scope
        ? { ...configured, sql: { ...configured.sql, creationStatements: scope.sql.creationStatements } }
        : configured;
      // Whole seconds: VALID UNTIL and the grant's deadline then agree exactly.
      const expiresAt = new Date(Math.floor(clock().getTime() / 1000 + grant.durationSeconds) * 1000);
      // Rendered before anything is created: a role that cannot be removed must never exist.
      const undo = [
        {
          name: username,
          revocation: renderSqlStatements(target, "revocationStatements", { name: username }),
        },
      ];
      const passwords: string[] = [];
      const failure = (error: unknown, action: string) =>
        sqlUpstreamError(error, action, { ...context, secrets: [...passwords, ...context.secrets] });
      const form = await admin.passwordForm(signal).catch((error: unknown) => {
        throw failure(error, "reading the server's password settings");
      });

      for (let round = 1; ; round++) {
        // A new password each round: PostgreSQL logs a failed statement's text by default
        // (log_min_error_statement), so the password (or verifier) of a failed CREATE ROLE is never used.
        const password = generateSqlPassword();
        passwords.push(password);
        // The verifier or hash where the server takes one: hashed here, before the lock is taken.
        const sent = await passwordForTemplates(form, target.sql.creationStatements, password);
        // A verifier allows offline guessing (RFC 5802 §9): kept out of messages like the password.
        if (sent.stored) passwords.push(sent.value);
        const creation = renderSqlStatements(
          { ...target, sql: { ...target.sql, creationStatements: [...sent.templates] } },
          "creationStatements",
          { name: username, password: sent.value, expiration: sqlExpiration(expiresAt) },
        );
        try {
          await admin.run(creation, signal);
          return {
            reference: { engine: target.sql.engine, username },
            secret: {
              kind: "database",
              username,
              password,
              host: admin.location.host,
              port: String(admin.location.port),
              database: admin.location.database,
              url: credentialUrl(target.sql.engine, admin.location, username, password),
            },
            expiresAt,
          };
        } catch (error) {
          // Leave nothing behind: MySQL's DDL committed statement by statement, and a role that
          // existed already is a leftover of this same attempt (retried after a timeout). Not
          // abortable: it is short, and an aborted job must not leave a user behind.
          const undoError = await admin.endRoles(undo).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (undoError !== undefined) {
            const failed = failure(error, "creating the credential");
            const undoFailed = failure(undoError, "removing what it created");
            throw new UpstreamError(`${failed.message}; ${undoFailed.message}`, {
              // Retrying can clean up what is left even when the creation error itself repeats.
              retryable: failed.retryable || undoFailed.retryable,
              upstreamCode: failed.upstreamCode,
            });
          }
          if (round === 1 && isDuplicateRoleError(error)) continue;
          throw failure(error, "creating the credential");
        }
      }
    },

    discardEarlierAttempts: (input) =>
      endAttempts(input, attemptsBefore(input.grant.issueAttempts), "discarding earlier attempts"),

    // Every attempt's role, not only the last: an earlier one may have escaped discarding.
    revoke: (input) => endAttempts(input, attemptsBefore(input.grant.issueAttempts + 1), "revoking"),
    expire: (input) => endAttempts(input, attemptsBefore(input.grant.issueAttempts + 1), "expiring"),

    async release() {},
    needsRelease: () => false,
    scopeProblem: ({ scopes }) =>
      scopes.length > 1
        ? "a SQL target's role is created by one set of statements: pick one scope"
        : undefined,

    async checkConnection({ target: anyTarget, signal }) {
      const { admin, context } = open(anyTarget);
      try {
        await admin.ping(signal);
      } catch (error) {
        throw sqlUpstreamError(error, "checking the admin connection", context);
      }
    },

    async renew({ grant, target: anyTarget, expiresAt, signal }) {
      const { target, admin, context } = open(anyTarget);
      const end = new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
      const statements = renderSqlStatements(target, "renewStatements", {
        name: sqlRoleName(grant.id, grant.issueAttempts),
        expiration: sqlExpiration(end),
      });
      // MySQL has no expiry to move by default; Leasehold drops the user at the (new) deadline.
      if (statements.length > 0) {
        try {
          await admin.run(statements, signal);
        } catch (error) {
          throw sqlUpstreamError(error, "renewing the credential", context);
        }
      }
      return { expiresAt: end };
    },

    drift: createSqlDrift(open),

    close: () => pools.close(),
  };
}

/** Attempt numbers 1 … n − 1. */
const attemptsBefore = (n: number): number[] => Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
