import { randomBytes } from "node:crypto";
import { UpstreamError } from "@leasehold/domain";
import { isMysqlNativePasswordHash, isScramSha256Verifier } from "./password-verifier.js";
import { renderSqlTemplate, type SqlEngine, type SqlTarget, sqlTemplateProblem } from "./sql-schemas.js";

/**
 * The only values that ever go into a statement template, and the alphabets they are drawn from. The
 * domain schema already keeps each placeholder inside its quotes; these alphabets contain no quote,
 * backslash or whitespace, so a value can never end the quoted string or identifier it sits in.
 */
export const SAFE_SQL_VALUE = {
  /** ≤ 31 characters: fits MySQL's 32-character user-name limit (PostgreSQL allows 63). */
  name: /^lh_[0-9a-f]{16}_a[1-9][0-9]{0,9}$/,
  password: /^[A-Za-z0-9]{32}$/,
  expiration: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00$/,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Leasehold's role names (see sqlRoleName), as a regular expression both engines understand. */
export const LEASED_ROLE_PATTERN = "^lh_[0-9a-f]{16}_a[0-9]+$";

/**
 * `lh_<first 16 hex digits of the grant id>_a<attempt>`. Deterministic, so an attempt that crashed
 * after creating its role (and before recording it) can always be found and dropped again. Grant ids
 * are random (v4) UUIDs, so 16 hex digits carry 60 random bits.
 */
export function sqlRoleName(grantId: string, attempt: number): string {
  if (!UUID.test(grantId)) throw new Error("a grant id is a UUID");
  if (!Number.isSafeInteger(attempt) || attempt < 1 || attempt > 9_999_999_999) {
    throw new Error(`issue attempt ${attempt} is not a positive whole number`);
  }
  return `lh_${grantId.replaceAll("-", "").slice(0, 16).toLowerCase()}_a${attempt}`;
}

const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PASSWORD_LENGTH = 32;
/** The largest multiple of 62 that fits in a byte: bytes from 248 up are skipped, so every character is equally likely. */
const UNBIASED_LIMIT = 256 - (256 % PASSWORD_ALPHABET.length);

/** `length` (default 32: about 190 bits) characters of [A-Za-z0-9] from the system's CSPRNG, unbiased. */
export function generateSqlPassword(length = PASSWORD_LENGTH): string {
  let password = "";
  while (password.length < length) {
    for (const byte of randomBytes(48)) {
      if (byte >= UNBIASED_LIMIT) continue;
      password += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
      if (password.length === length) break;
    }
  }
  return password;
}

/** `YYYY-MM-DD HH:MM:SS+00` in UTC: what PostgreSQL's VALID UNTIL reads unambiguously. */
export const sqlExpiration = (at: Date): string => `${at.toISOString().slice(0, 19).replace("T", " ")}+00`;

export type SqlTemplateValues = {
  readonly name: string;
  /** The generated password, or its verifier or hash (sql-stored-password.ts). */
  readonly password?: string;
  readonly expiration?: string;
};

type StatementField = "creationStatements" | "revocationStatements" | "renewStatements";

/**
 * A target's statements with the placeholders filled in. Checks again that every template is safe
 * (a target built without the schema must not run) and that the values come from the generators.
 * Throws a non-retryable UpstreamError when the target's configuration cannot be used.
 */
export function renderSqlStatements(
  target: SqlTarget,
  field: StatementField,
  values: SqlTemplateValues,
): string[] {
  assertSafeValues(values);
  return target.sql[field].map((template, index) => {
    const problem = sqlTemplateProblem(target.sql.engine, template) ?? missingValue(template, values);
    if (problem) {
      throw new UpstreamError(`sql target ${target.id}: ${field}[${index}]: ${problem}`, {
        retryable: false,
        upstreamCode: "INVALID_TEMPLATE",
      });
    }
    return renderSqlTemplate(template, values);
  });
}

/** Revocation has only the name, and renewal no password (Leasehold does not keep it). */
function missingValue(template: string, values: SqlTemplateValues): string | undefined {
  try {
    renderSqlTemplate(template, values);
    return undefined;
  } catch (error) {
    return `${(error as Error).message}: Leasehold has no such value at this step`;
  }
}

function assertSafeValues(values: SqlTemplateValues): void {
  for (const key of ["name", "password", "expiration"] as const) {
    const value = values[key];
    // Never print the value: it may be a password.
    if (
      value !== undefined &&
      !SAFE_SQL_VALUE[key].test(value) &&
      !(key === "password" && isStoredForm(value))
    ) {
      throw new Error(`the generated ${key} is outside its safe alphabet; refusing to render SQL`);
    }
  }
}

/**
 * A SCRAM verifier (base64, `$`, `:`, digits) or a `*`-and-hex hash: no quote, backslash or whitespace
 * either, so it cannot end the string literal it sits in.
 */
const isStoredForm = (value: string) => isScramSha256Verifier(value) || isMysqlNativePasswordHash(value);

/** Where a credential connects: from the admin URL, without its user name or password. */
export type SqlLocation = {
  readonly host: string;
  readonly port: number;
  /** Empty on MySQL when the admin URL names no default database. */
  readonly database: string;
  /** PostgreSQL's `sslmode` from the admin URL, so the credential connects as securely as the admin does. */
  readonly sslmode?: string | undefined;
};

/** A connection URL for the leased credential; built from parts, so nothing of the admin's URL leaks in. */
export function credentialUrl(
  engine: SqlEngine,
  location: SqlLocation,
  username: string,
  password: string,
): string {
  const host = location.host.includes(":") ? `[${location.host}]` : location.host;
  const scheme = engine === "postgres" ? "postgresql" : "mysql";
  const url = new URL(`${scheme}://${host}:${location.port}/${encodeURIComponent(location.database)}`);
  url.username = username;
  url.password = password;
  if (engine === "postgres" && location.sslmode) url.searchParams.set("sslmode", location.sslmode);
  return url.toString();
}
