import { UpstreamError } from "@leasehold/domain";
import { z } from "zod";

/**
 * A rotated secret's value: JSON with at least `username` and `password` (the format RDS rotation
 * uses); other string fields (engine, host, …) are kept as they are.
 */
export const secretValueSchema = z
  .object({ username: z.string().min(1), password: z.string().min(1) })
  .catchall(z.string());
export type SecretValue = z.output<typeof secretValueSchema>;

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
    throw refuse("is not JSON with username and password");
  }
  if (typeof parsed !== "object" || parsed === null) throw refuse("is not a JSON object");
  const strings = Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const value = secretValueSchema.safeParse(strings);
  if (!value.success) throw refuse("has no username and password");
  return value.data;
}
