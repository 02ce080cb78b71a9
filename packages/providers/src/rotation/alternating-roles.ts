import { UpstreamError } from "@leasehold/domain";
import { generateSqlPassword } from "../sql-native/sql-credentials.js";
import type { SqlEngine } from "../sql-native/sql-schemas.js";
import type { DatabasePasswords, RotatedDatabase } from "./database-password.js";
import type { RotatedCredential, RotationCheck } from "./rotated-credential.js";
import { failedCheck, loginCheck } from "./rotation-checks.js";
import { requireFields, type SecretValue } from "./secret-store.js";

/** Two users of one database that take turns, and how long their new passwords are (16–128). */
export type AlternatingRoles = {
  readonly engine: SqlEngine;
  readonly adminUrl: string;
  /** The first user and the alternate: validated by the rotation schema, and different. */
  readonly usernames: readonly [string, string];
  readonly passwordLength: number;
  /** Create the alternate as a clone of the first when the run switches to it (user-clone.ts). */
  readonly clone?: boolean;
};

/**
 * Two users used in turn: each run gives the user the secret does not name a new password, tests it,
 * and makes that user current. The previous user keeps its password until the next run, so
 * applications still holding the previous value keep logging in: no run, and no crash at any step,
 * leaves the current secret unable to log in.
 */
export function alternatingRoles(
  passwords: Pick<DatabasePasswords, "set" | "test" | "exists" | "clone">,
  roles: AlternatingRoles,
): RotatedCredential {
  const [first, alternate] = roles.usernames;
  const where = `the secret of ${first} or ${alternate}`;
  const db = (username: string): RotatedDatabase => ({
    engine: roles.engine,
    adminUrl: roles.adminUrl,
    username,
  });
  const cloned = (username: string) => roles.clone === true && username === alternate;
  const missing = (username: string) =>
    username === alternate
      ? `the alternate user ${username} does not exist in the database; create it or set cloneAlternate: true`
      : `the user ${username} does not exist in the database; create it`;
  /** The value's fields; it must name one of the two users. */
  const owned = (value: SecretValue) => {
    const fields = requireFields(value, ["username", "password"], where);
    if (fields.username !== first && fields.username !== alternate) {
      throw new UpstreamError(
        `the secret's username is neither ${first} nor ${alternate}; fix the secret or the rotation`,
        { retryable: false },
      );
    }
    return fields;
  };
  const other = (username: string) => (username === first ? alternate : first);

  /** The user the run switches to exists when "create" ends: cloned if asked, else it must be there. */
  const ensureExists = async (username: string) => {
    if (cloned(username)) return passwords.clone(db(first), username);
    if (!(await passwords.exists(db(username)))) {
      throw new UpstreamError(missing(username), { retryable: false });
    }
  };

  const existsCheck = async (username: string): Promise<RotationCheck> => {
    const check = `the user ${username} exists`;
    try {
      if (await passwords.exists(db(username))) return { check, ok: true, detail: "" };
    } catch (error) {
      return failedCheck(check, error);
    }
    if (cloned(username)) {
      return { check, ok: true, detail: `the next run creates it as a clone of ${first}` };
    }
    return { check, ok: false, detail: missing(username) };
  };

  return {
    next: async (current) => {
      const to = other(owned(current).username);
      await ensureExists(to);
      return { ...current, username: to, password: generateSqlPassword(roles.passwordLength) };
    },
    set: (next) => {
      const { username, password } = owned(next);
      return passwords.set(db(username), password);
    },
    test: (next) => {
      const { username, password } = owned(next);
      return passwords.test(db(username), password);
    },
    // The previous user keeps working until the next run gives it a new password.
    retire: async () => undefined,
    undo: async (previous, next) => {
      const staged = owned(next);
      // The previous user, still current, was never touched. The staged password outlives the failed
      // run (sealed with the run; AWSPENDING in Secrets Manager), so the user that took it gets a
      // password no one keeps: the failed run leaves no working login that no secret names as current.
      if (staged.username === owned(previous).username) return;
      await passwords.set(db(staged.username), generateSqlPassword(roles.passwordLength));
    },
    check: async (current) => {
      const { username, password } = requireFields(current, ["username", "password"], where);
      const named = username === first || username === alternate;
      const checks: RotationCheck[] = [
        {
          check: "the secret names one of the rotated users",
          ok: named,
          detail: named ? `it names ${username}` : `it names ${username}, neither ${first} nor ${alternate}`,
        },
      ];
      if (named) {
        checks.push(
          await loginCheck("the current password logs in", () => passwords.test(db(username), password)),
        );
      }
      for (const user of roles.usernames) if (user !== username) checks.push(await existsCheck(user));
      return checks;
    },
  };
}
