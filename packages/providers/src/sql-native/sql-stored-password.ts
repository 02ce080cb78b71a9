import {
  MAX_SCRAM_ITERATIONS,
  mysqlNativePasswordHash,
  SCRAM_ITERATIONS,
  scramSha256Verifier,
} from "./password-verifier.js";

/**
 * What Leasehold sends in place of a leased role's password, as the target server can take it:
 * - `scram-sha-256`: PostgreSQL with password_encryption = scram-sha-256 (the default since 14). The
 *   verifier is stored as it is, exactly what the server would have computed from the password.
 * - `mysql-native`: MariaDB, whose `IDENTIFIED BY 'pw'` stores mysql_native_password's hash; sent as
 *   `IDENTIFIED BY PASSWORD '*…'`, it stores the same hash.
 * - `plaintext`: the password itself, as before. PostgreSQL with password_encryption = md5 (the
 *   operator's choice of hash is kept), and MySQL: there `IDENTIFIED BY` means caching_sha2_password
 *   (8.0+), whose stored form Leasehold does not compute, and mysql_native_password, the only plugin
 *   that takes a precomputed hash there, is deprecated since 8.0.34, off by default in 8.4 and gone
 *   in 9.0; switching leased users to it would weaken them.
 */
export type PasswordForm =
  | { readonly kind: "scram-sha-256"; readonly iterations: number }
  | { readonly kind: "mysql-native" }
  | { readonly kind: "plaintext" };

const ANY_PASSWORD = /\{\{\s*password\s*\}\}/g;
/** Where a template's {{password}} is the password itself, so a stored form can take its place. */
const PASSWORD_CLAUSE = {
  // CREATE ROLE … [ENCRYPTED] PASSWORD '…' and ALTER ROLE … PASSWORD '…'.
  "scram-sha-256": /\bPASSWORD\s+'\{\{\s*password\s*\}\}'/gi,
  // CREATE USER / ALTER USER … IDENTIFIED BY '…', rewritten to IDENTIFIED BY PASSWORD '<hash>'.
  "mysql-native": /\bIDENTIFIED\s+BY\s+'\{\{\s*password\s*\}\}'/gi,
} as const;

/** The templates to render and the value of their {{password}}. */
export type PasswordForTemplates = {
  readonly templates: readonly string[];
  readonly value: string;
  /** Whether `value` is a verifier or hash rather than the password. */
  readonly stored: boolean;
};

const count = (templates: readonly string[], pattern: RegExp) =>
  templates.reduce((n, template) => n + (template.match(pattern)?.length ?? 0), 0);

/**
 * `password` in the form `form` asks for, and the templates rewritten to take it. Falls back to the
 * password itself when any {{password}} of the templates is not in the clause the form replaces (a
 * template passing the password elsewhere, say to a function, needs the password). Hashing PBKDF2
 * runs off the event loop (password-verifier.ts).
 */
export async function passwordForTemplates(
  form: PasswordForm,
  templates: readonly string[],
  password: string,
): Promise<PasswordForTemplates> {
  const plaintext = { templates, value: password, stored: false };
  if (form.kind === "plaintext") return plaintext;
  const clause = PASSWORD_CLAUSE[form.kind];
  const all = count(templates, ANY_PASSWORD);
  if (all === 0 || count(templates, clause) !== all) return plaintext;
  if (form.kind === "scram-sha-256") {
    return {
      templates,
      value: await scramSha256Verifier(password, { iterations: form.iterations }),
      stored: true,
    };
  }
  return {
    templates: templates.map((template) => template.replace(clause, "IDENTIFIED BY PASSWORD '{{password}}'")),
    value: mysqlNativePasswordHash(password),
    stored: true,
  };
}

/** PostgreSQL's form from its settings: `password_encryption`, and `scram_iterations` (16+, else null). */
export function postgresPasswordForm(encryption: string, iterations: string | null): PasswordForm {
  if (encryption !== "scram-sha-256") return { kind: "plaintext" };
  const configured = Number(iterations ?? SCRAM_ITERATIONS);
  if (!Number.isSafeInteger(configured)) return { kind: "plaintext" };
  // More than Leasehold computes: the server hashes with its own count. Fewer than PostgreSQL's
  // default: the verifier is not made weaker than that default.
  if (configured > MAX_SCRAM_ITERATIONS) return { kind: "plaintext" };
  return { kind: "scram-sha-256", iterations: Math.max(configured, SCRAM_ITERATIONS) };
}

/** MySQL/MariaDB's form from `SELECT VERSION()`: MariaDB's says so (`10.11.6-MariaDB-…`). */
export const mysqlPasswordForm = (version: string): PasswordForm =>
  /mariadb/i.test(version) ? { kind: "mysql-native" } : { kind: "plaintext" };
