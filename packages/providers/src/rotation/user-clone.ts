import { SqlAdminError } from "../sql-native/sql-errors.js";

/*
 * How a rotation's alternate user is made a clone of the first (`clone: true`). Names reach these
 * functions checked against the safe username alphabet (database-password.ts), so they need no quoting
 * beyond the engine's own.
 */

/**
 * PostgreSQL: the alternate logs in and inherits everything granted to the first user, as a member of
 * it. Without a password it cannot log in until the rotation's "set" step gives it one.
 */
export const postgresCloneStatement = (from: string, to: string, toExists: boolean): string =>
  toExists ? `GRANT "${from}" TO "${to}"` : `CREATE ROLE "${to}" LOGIN INHERIT IN ROLE "${from}"`;

/** `IDENTIFIED BY PASSWORD '<hash>'` or `IDENTIFIED VIA <plugin> [USING '…'] [OR …]`, up to what follows. */
const AUTHENTICATION = / IDENTIFIED (?:BY PASSWORD|VIA|WITH) .*?(?= REQUIRE | WITH |$)/;

/**
 * MariaDB/MySQL: the statements giving `to`@'%' every grant `SHOW GRANTS FOR from@'%'` listed (one
 * line each), with the grantee renamed and the authentication clause removed, so neither the first
 * user's password hash nor its plugin reaches the alternate or a statement. The account line (`GRANT
 * USAGE ON *.*`, which grants nothing) becomes an ALTER USER carrying its REQUIRE and resource limits,
 * since a GRANT on *.* needs the global GRANT OPTION the admin may lack. Running them again grants
 * nothing new. A line of another shape is refused without being repeated (it may hold a hash).
 */
export function mysqlCloneGrants(lines: readonly string[], from: string, to: string): string[] {
  const grantee = (user: string) => `\`${user}\`@\`%\``;
  const account = `GRANT USAGE ON *.* TO ${grantee(to)}`;
  return lines.flatMap((line, index) => {
    const grant = /^GRANT /.test(line) && line.includes(` TO ${grantee(from)}`);
    const defaultRole = /^SET DEFAULT ROLE /.test(line) && line.endsWith(` FOR ${grantee(from)}`);
    if (!grant && !defaultRole) {
      throw new SqlAdminError(
        `line ${index + 1} of SHOW GRANTS for ${from} is not a grant to ${from}@'%' Leasehold can copy`,
        { code: "UNEXPECTED_GRANT", retryable: false },
      );
    }
    if (defaultRole) return [line.replace(` FOR ${grantee(from)}`, ` FOR ${grantee(to)}`)];
    const copied = line.replace(AUTHENTICATION, "").replace(` TO ${grantee(from)}`, ` TO ${grantee(to)}`);
    if (!copied.startsWith(account) || /GRANT OPTION/.test(copied)) return [copied];
    const options = copied.slice(account.length);
    return options ? [`ALTER USER ${grantee(to)}${options}`] : [];
  });
}
