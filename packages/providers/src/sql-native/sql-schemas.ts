import { type DurationLimits, type TargetOfKind, targetNarrowing, targetSchemaFor } from "@leasehold/domain";
import { z } from "zod";

/** Native database roles: like Vault's database credentials, from ten seconds to twelve hours. */
export const SQL_DURATION_LIMITS: DurationLimits = { minSeconds: 10, maxSeconds: 43_200 };

export const sqlEngines = ["postgres", "mysql"] as const;
export type SqlEngine = (typeof sqlEngines)[number];

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

/** How each placeholder must be quoted, per engine, so a statement cannot be broken out of. */
const QUOTED: Record<SqlEngine, Record<string, readonly string[]>> = {
  // PostgreSQL: the role name is a quoted identifier; the password and expiry are string literals.
  postgres: { name: ['"'], password: ["'"], expiration: ["'"] },
  // MySQL/MariaDB: account names are string literals ('name'@'%') or backtick identifiers.
  mysql: { name: ["'", "`"], password: ["'"], expiration: ["'"] },
};

/**
 * Why a statement template is unsafe or unusable, or undefined. Placeholders are `{{name}}`,
 * `{{password}}` and `{{expiration}}` only, each directly inside the quotes its engine needs. Their
 * values are generated from a safe alphabet anyway; the quoting rule keeps a template that forgot the
 * quotes from ever running.
 */
export function sqlTemplateProblem(engine: SqlEngine, template: string): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    const quotes = QUOTED[engine][name];
    if (!quotes) return `{{${name}}} is not a placeholder; use {{name}}, {{password}} or {{expiration}}`;
    const start = match.index ?? 0;
    const before = template[start - 1];
    const after = template[start + match[0].length];
    if (before === undefined || after === undefined || before !== after || !quotes.includes(before)) {
      return `{{${name}}} must be written inside ${quotes.map((q) => `${q}…${q}`).join(" or ")} for ${engine}`;
    }
  }
  return undefined;
}

const statements = (what: string) =>
  z.array(z.string().trim().min(1).max(2000)).min(1, `${what} needs at least one statement`).max(20);

/** The `sql:` block of a `sql` target: Leasehold creates and drops the database role itself. */
export const sqlSettingsSchema = z
  .object({
    engine: z.enum(sqlEngines),
    /**
     * Name of the environment variable that holds the admin connection URL (never the URL itself:
     * leasehold.yaml holds policy, not secrets).
     */
    adminUrlEnv: z
      .string()
      .regex(
        /^[A-Z][A-Z0-9_]{1,100}$/,
        "adminUrlEnv is an environment variable name like ORDERS_DB_ADMIN_URL",
      ),
    /** Run to create the credential, e.g. `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`. */
    creationStatements: statements("creationStatements"),
    /** Run to end it, after the role's sessions are terminated. Default: drop the role or user. */
    revocationStatements: statements("revocationStatements").optional(),
    /** Run to renew it. Default on PostgreSQL: move VALID UNTIL; MySQL needs none (Leasehold drops the user on time). */
    renewStatements: z.array(z.string().trim().min(1).max(2000)).max(20).optional(),
  })
  .strict()
  .superRefine((sql, ctx) => {
    const lists = {
      creationStatements: sql.creationStatements,
      revocationStatements: sql.revocationStatements ?? [],
      renewStatements: sql.renewStatements ?? [],
    };
    for (const [field, list] of Object.entries(lists)) {
      list.forEach((statement, index) => {
        const problem = sqlTemplateProblem(sql.engine, statement);
        if (problem) ctx.addIssue({ code: "custom", path: [field, index], message: problem });
      });
    }
    if (!sql.creationStatements.some((s) => /\{\{\s*name\s*\}\}/.test(s))) {
      ctx.addIssue({
        code: "custom",
        path: ["creationStatements"],
        message: "creationStatements must create {{name}}",
      });
    }
  })
  .transform((sql) => ({
    ...sql,
    revocationStatements:
      sql.revocationStatements ??
      (sql.engine === "postgres"
        ? ['DROP ROLE IF EXISTS "{{name}}"']
        : ["DROP USER IF EXISTS '{{name}}'@'%'"]),
    renewStatements:
      sql.renewStatements ??
      (sql.engine === "postgres" ? [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`] : []),
  }));

export type SqlSettings = z.output<typeof sqlSettingsSchema>;

/**
 * The `sql:` block of a scope: its own creation statements (say `GRANT SELECT` for read-only and
 * `GRANT SELECT, INSERT, UPDATE` for read-write), run instead of the target's. Revocation and
 * renewal stay the target's. A request names at most one.
 */
export const sqlScopeSettingsSchema = z
  .object({ creationStatements: statements("creationStatements") })
  .strict();
export type SqlScopeSettings = z.output<typeof sqlScopeSettingsSchema>;

/** A scope's statements must be as safe as the target's, for the target's engine. */
function sqlScopeProblems(target: {
  readonly settings: SqlSettings;
  readonly scopes: readonly Record<string, unknown>[];
  readonly defaultScopes: readonly string[];
}): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  if (target.defaultScopes.length > 1)
    problems.push([
      ["defaultScopes"],
      "a sql target runs one set of creation statements: name one default scope",
    ]);
  target.scopes.forEach((scope, index) => {
    // Required by the scope's schema; absent only when that already failed.
    const sql = scope.sql as SqlScopeSettings | undefined;
    if (sql === undefined) return;
    sql.creationStatements.forEach((statement, at) => {
      const problem = sqlTemplateProblem(target.settings.engine, statement);
      if (problem) problems.push([["scopes", index, "sql", "creationStatements", at], problem]);
    });
    if (!sql.creationStatements.some((s) => /\{\{\s*name\s*\}\}/.test(s)))
      problems.push([
        ["scopes", index, "sql", "creationStatements"],
        "creationStatements must create {{name}}",
      ]);
  });
  return problems;
}

/** A `sql` target in leasehold.yaml: the common fields and the `sql:` block. */
export const sqlTargetSchema = targetSchemaFor({
  kind: "sql",
  settingsKey: "sql",
  settings: sqlSettingsSchema,
  durationLimits: SQL_DURATION_LIMITS,
  scope: sqlScopeSettingsSchema,
  checkScopes: sqlScopeProblems,
});
export type SqlTarget = TargetOfKind<"sql", "sql", SqlSettings, SqlScopeSettings>;

/** The target as a `sql` one. */
export const asSqlTarget = targetNarrowing<SqlTarget>("sql", "sql", "SQL");

/**
 * What a `sql` grant keeps. The provider finds its roles by name (`lh_<grant>_a<n>`), not by this; it
 * is there for people reading the grant.
 */
export const sqlReferenceSchema = z.object({
  engine: z.enum(sqlEngines),
  username: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
});
export type SqlReference = z.output<typeof sqlReferenceSchema>;

/** Replaces the placeholders of a template that passed `sqlTemplateProblem`. */
export function renderSqlTemplate(
  template: string,
  values: { name: string; password?: string; expiration?: string },
): string {
  return template.replace(PLACEHOLDER, (_whole, key: string) => {
    const value = values[key.trim() as keyof typeof values];
    if (value === undefined) throw new Error(`no value for {{${key}}}`);
    return value;
  });
}
