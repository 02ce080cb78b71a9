import { UpstreamError } from "@leasehold/domain";
import { z } from "zod";

/**
 * A rotated secret's value: a JSON object of string fields. What it must hold depends on what rotates
 * (`username` and `password` for a database role, the format RDS rotation uses; `accessKeyId` and
 * `secretAccessKey` for an IAM user): the rotated credential checks that (requireFields). Other string
 * fields (engine, host, …) are kept as they are.
 */
export const secretValueSchema = z.record(z.string().max(256), z.string().max(65_536));
export type SecretValue = Readonly<Record<string, string>>;

/**
 * Where a rotated secret lives. The four steps of a rotation (create, set, test, finish) call these;
 * every method is idempotent for a given `token` (the run id), so a retried step changes nothing twice.
 */
export type SecretStore = {
  /** The version applications read now. */
  readCurrent(): Promise<{ readonly version: string; readonly value: SecretValue }>;
  /** The new value already staged for this run, if the store can stage (Secrets Manager's AWSPENDING). */
  readPending(token: string): Promise<SecretValue | undefined>;
  /** Stages the new value for this run without making it current (a no-op where staging does not exist). */
  stagePending(token: string, value: SecretValue): Promise<void>;
  /**
   * Makes the run's value current; the previous one stays readable. `baseVersion` is the version that
   * was current when the run started: if someone else changed the secret since, promoting is refused.
   */
  promote(token: string, value: SecretValue, baseVersion: string): Promise<void>;
  /** Whether the run's value is already current (a promote that succeeded before a crash). */
  isCurrent(token: string, value: SecretValue): Promise<boolean>;
};

/**
 * Parses a stored secret into a value with a username and a password. A secret in another shape is a
 * configuration problem no retry fixes; the message never repeats the secret.
 */
export function parseSecretValue(text: string | undefined, where: string): SecretValue {
  const refuse = (why: string) => new UpstreamError(`${where} ${why}`, { retryable: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? "");
  } catch {
    throw refuse("is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw refuse("is not a JSON object");
  const strings = Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const value = secretValueSchema.safeParse(strings);
  if (!value.success || Object.keys(value.data).length === 0) throw refuse("has no string fields");
  return value.data;
}

/**
 * The fields a rotated credential needs, each a non-empty string; a secret without them is refused
 * with the names of the missing fields (never their values), a configuration problem no retry fixes.
 */
export function requireFields<const K extends string>(
  value: SecretValue,
  fields: readonly K[],
  where: string,
): Record<K, string> {
  const missing = fields.filter((field) => !value[field]);
  if (missing.length > 0) {
    throw new UpstreamError(`${where} has no ${missing.join(" or ")}; add it to the secret`, {
      retryable: false,
    });
  }
  return Object.fromEntries(fields.map((field) => [field, value[field]])) as Record<K, string>;
}

/** Whether two values hold the same fields with the same strings. */
export function sameSecretValue(a: SecretValue, b: SecretValue): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
