import { UpstreamError } from "@leasehold/domain";
import { generateSqlPassword } from "../sql-native/sql-credentials.js";
import type { DatabasePasswords, RotatedDatabase } from "./database-password.js";
import type { RotatedCredential } from "./rotated-credential.js";
import { loginCheck } from "./rotation-checks.js";
import { requireFields, type SecretValue } from "./secret-store.js";

/** A rotated role and how long its new passwords are (16–128 characters). */
export type RotatedRole = RotatedDatabase & { readonly passwordLength: number };

/**
 * One role whose password each run replaces in place: between "set" and "finish" applications
 * holding the current secret cannot log in (alternating roles close that window). A failed run puts
 * the previous password back.
 */
export function rotatedRole(
  passwords: Pick<DatabasePasswords, "set" | "test">,
  role: RotatedRole,
): RotatedCredential {
  const where = `the secret of ${role.username}`;
  const owned = (value: SecretValue) => {
    const fields = requireFields(value, ["username", "password"], where);
    if (fields.username !== role.username) {
      throw new UpstreamError(
        `the secret's username is not ${role.username}; fix the secret or the rotation`,
        {
          retryable: false,
        },
      );
    }
    return fields;
  };
  return {
    next: async (current) => {
      owned(current);
      return { ...current, password: generateSqlPassword(role.passwordLength) };
    },
    set: (next) => passwords.set(role, owned(next).password),
    test: (next) => passwords.test(role, owned(next).password),
    retire: async () => undefined,
    undo: (previous) => passwords.set(role, owned(previous).password),
    check: async (current) => {
      const fields = requireFields(current, ["username", "password"], where);
      const names = {
        check: "the secret names the rotated user",
        ok: fields.username === role.username,
        detail: fields.username === role.username ? "" : `it names ${fields.username}`,
      };
      return [
        names,
        await loginCheck("the current password logs in", () => passwords.test(role, fields.password)),
      ];
    },
  };
}
